/**
 * The error catalogue (CONVENTIONS 14): every code a CaError may carry, with its exit code,
 * HTTP status and a sentence. The CLI and the server read it; docs/errors.md is generated
 * from it (scripts/gen-docs-errors.mjs). Areas follow the operator's word for the work.
 */
import { DOCUMENT_ERRORS } from './documents.ts';
import type { ErrorEntry } from './entry.ts';
import { FILE_ERRORS } from './files.ts';
import { ISSUANCE_ERRORS } from './issuance.ts';
import { KEY_ERRORS } from './keys.ts';
import { LIFECYCLE_ERRORS } from './lifecycle.ts';
import { ONLINE_ERRORS } from './online.ts';
import { PEOPLE_ERRORS } from './people.ts';
import { RECORD_ERRORS } from './records.ts';
import { STATUS_ERRORS } from './status.ts';
import { USAGE_ERRORS } from './usage.ts';

export type { ErrorEntry } from './entry.ts';

/** The areas in the order docs/errors.md lists them. */
export const ERROR_AREAS = [
  { title: 'Command line (exit 2)', errors: USAGE_ERRORS },
  { title: 'People and roles', errors: PEOPLE_ERRORS },
  { title: 'Keys, custody and tokens', errors: KEY_ERRORS },
  { title: 'CAs and issuance', errors: ISSUANCE_ERRORS },
  { title: 'Revocation, CRLs and OCSP', errors: STATUS_ERRORS },
  { title: 'Changeover, compromise and termination', errors: LIFECYCLE_ERRORS },
  { title: 'Audit, archive, time-stamps and transcripts', errors: RECORD_ERRORS },
  { title: 'Documents', errors: DOCUMENT_ERRORS },
  { title: 'Online side and publication', errors: ONLINE_ERRORS },
  { title: 'Files and configuration', errors: FILE_ERRORS },
] as const;

export const ERROR_CATALOGUE = {
  ...USAGE_ERRORS,
  ...PEOPLE_ERRORS,
  ...KEY_ERRORS,
  ...ISSUANCE_ERRORS,
  ...STATUS_ERRORS,
  ...LIFECYCLE_ERRORS,
  ...RECORD_ERRORS,
  ...DOCUMENT_ERRORS,
  ...ONLINE_ERRORS,
  ...FILE_ERRORS,
} satisfies Record<string, ErrorEntry>;

/** Every code a CaError may carry: a typo is a type error. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** The codes of usage errors (exit 2), the only ones a UsageError takes. */
export type UsageErrorCode = keyof typeof USAGE_ERRORS;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CATALOGUE, code);
}

/** The CLI's exit code for an error code (1 for a code outside the catalogue). */
export function exitCodeOf(code: string): 1 | 2 {
  return isErrorCode(code) ? ERROR_CATALOGUE[code].exit : 1;
}

/** The HTTP status the server answers with for an error code (500 outside the catalogue). */
export function httpStatusOf(code: string): number {
  return isErrorCode(code) ? ERROR_CATALOGUE[code].http : 500;
}
