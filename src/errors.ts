/**
 * Typed errors with stable codes (CONVENTIONS 6). The CLI prints `message` and exits 1;
 * the server maps `code` to a protocol status. `cause` keeps the underlying error.
 */
export class CaError extends Error {
  readonly code: string;
  /** Extra machine-readable facts for --json output and the audit record. */
  readonly details: Record<string, unknown>;
  constructor(code: string, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CaError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** Bad command-line usage: exit code 2. */
export class UsageError extends CaError {
  constructor(message: string) {
    super('USAGE', message);
    this.name = 'UsageError';
  }
}

export function isCaError(e: unknown): e is CaError {
  return e instanceof CaError;
}
