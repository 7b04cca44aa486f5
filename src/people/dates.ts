/** Dates of personnel records (training, background checks: CPS 5.3.2, 5.3.3), kept as midnight UTC. */
import { CaError } from '../errors.ts';

/** A `YYYY-MM-DD` date as the ISO timestamp stored for it; DATE_INVALID otherwise. */
export function isoDate(d: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(d) || Number.isNaN(Date.parse(`${d}T00:00:00Z`)))
    throw new CaError('DATE_INVALID', `expected a date YYYY-MM-DD, got "${d}"`);
  return `${d}T00:00:00.000Z`;
}
