/** Asserting refusals: a promise rejects with a CaError of one code (and, optionally, a message). */
import assert from 'node:assert/strict';
import { CaError } from '../src/errors.ts';

export async function refused(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof CaError, String(e));
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}
