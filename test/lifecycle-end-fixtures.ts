/** Shared by the compromise and termination tests: refusal assertions and CLI passphrases. */
import assert from 'node:assert/strict';
import { CaError } from '../src/errors.ts';
import { allPassphrases } from './helpers.ts';

/** Asserts that `fn` is refused with a CaError of `code` (and a message matching `message`). */
export const rejectsWith = (code: string, fn: () => Promise<unknown>, message?: RegExp) =>
  assert.rejects(fn, (e: unknown) => {
    assert.ok(e instanceof CaError, String(e));
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });

/** Every test person's passphrase as ROOTCA_PASSPHRASE_<NAME>, for bin/rootca.mjs. */
export function passphraseEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(allPassphrases()).map(([k, v]) => [`ROOTCA_PASSPHRASE_${k.toUpperCase()}`, v]));
}
