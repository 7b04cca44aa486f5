/** Repository of `publications`: the signed publication files made for the online side, numbered. */
import { first, run, sqliteQueries } from './query.ts';
import type { Db } from './db.ts';

/** The `publications` table (migration 4). */
export interface PublicationsTable {
  version: number;
  created_at: string;
  signer_ca: string;
  sha256: string;
  items: number;
  ceremony_id: number | null;
}

const q = sqliteQueries<{ publications: PublicationsTable }>();

/** The version the next publication takes: one more than the last (versions only grow). */
export function nextPublicationVersion(db: Db): number {
  const last = first(
    db,
    q.selectFrom('publications').select((s) => s.fn.max('version').as('v')),
  );
  return (last?.v ?? 0) + 1;
}

/** A publication, in the transaction with its audit event. */
export function insertPublication(
  db: Db,
  x: { version: number; createdAt: string; signerCa: string; sha256: string; items: number; ceremonyId: number },
): void {
  run(
    db,
    q.insertInto('publications').values({
      version: x.version,
      created_at: x.createdAt,
      signer_ca: x.signerCa,
      sha256: x.sha256,
      items: x.items,
      ceremony_id: x.ceremonyId,
    }),
  );
}

/** When the newest publication file was made, or undefined before the first (`rootca status`: what is published). */
export function latestPublicationTime(db: Db): string | undefined {
  return first(db, q.selectFrom('publications').select('created_at').orderBy('version', 'desc').limit(1))?.created_at;
}
