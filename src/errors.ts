/**
 * Typed errors with stable codes (CONVENTIONS 6). Every code is an entry of the error
 * catalogue (src/errors/catalogue.ts), which gives the CLI its exit code and the server its
 * HTTP status; the CLI prints `message [CODE]`. `cause` keeps the underlying error.
 */
import type { ErrorCode, UsageErrorCode } from './errors/catalogue.ts';

export type { ErrorCode, UsageErrorCode } from './errors/catalogue.ts';
export { ERROR_CATALOGUE, exitCodeOf, httpStatusOf, isErrorCode } from './errors/catalogue.ts';

export class CaError extends Error {
  readonly code: ErrorCode;
  /** Extra machine-readable facts for --json output and the audit record. */
  readonly details: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CaError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** Bad command-line usage: exit code 2, with a code from the catalogue's usage area. */
export class UsageError extends CaError {
  constructor(code: UsageErrorCode, message: string) {
    super(code, message);
    this.name = 'UsageError';
  }
}

export function isCaError(e: unknown): e is CaError {
  return e instanceof CaError;
}
