/**
 * One entry of the error catalogue (CONVENTIONS 14): the exit code the CLI returns, the HTTP
 * status the server answers with, and one sentence for docs/errors.md. The constructors name
 * the kind of failure so an area file reads as a list of codes, not of numbers.
 */
export interface ErrorEntry {
  /** 1: refused or failed; 2: the command line itself is wrong (CONVENTIONS 9). */
  readonly exit: 1 | 2;
  /** What the online server answers when this error reaches an HTTP client. */
  readonly http: number;
  /** One sentence: what went wrong and, where it helps, what to do. */
  readonly summary: string;
}

const entry =
  (exit: 1 | 2, http: number) =>
  (summary: string): ErrorEntry => ({ exit, http, summary });

/** A wrong command line: the operator fixes the options and runs it again. Exit 2. */
export const usage = entry(2, 400);
/** Input that is malformed or out of range (a file, a request, a value). */
export const invalid = entry(1, 400);
/** A rule of the CPS or of separation of duties refuses the person or the act. */
export const forbidden = entry(1, 403);
/** Something named does not exist. */
export const unknown = entry(1, 404);
/** The state of the installation does not allow it now (already done, not yet, exists). */
export const conflict = entry(1, 409);
/** A check on our own output failed, or an operation broke part-way: nothing was committed. */
export const failed = entry(1, 500);
/** A device, store or service the operation needs cannot be reached. */
export const unavailable = entry(1, 503);
