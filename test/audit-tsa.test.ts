/**
 * R-8.3 / CPS 5.5.5: an audit checkpoint time-stamped by the internal TSA carries a token that
 * OpenSSL accepts against the root, over exactly the checkpoint's signature bytes.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createCheckpoint, initAuditKey } from '../src/records/audit-checkpoints.ts';
import { activeTsa, openTimestamper } from '../src/records/time-stamping.ts';
import { initTsa } from '../src/records/tsa-setup.ts';
import { derToPem } from '../src/pki/pem.ts';
import {
  allPassphrases,
  installationWithPeople,
  openssl,
  passphraseMap,
  runShippedCeremony,
  tempDir,
} from './helpers.ts';

describe('R-8.3 time-stamped audit checkpoints', () => {
  it('openssl ts -verify accepts the checkpoint token (token_in) against the root and the TSA certificate', async (t) => {
    const dir = tempDir();
    const inst = installationWithPeople({ dir, more: true });
    t.after(() => inst.close()); // closed whether the test passes or not
    const passphrases = passphraseMap(allPassphrases());
    await runShippedCeremony(inst, 'rootca2', dir);
    await initTsa(inst, {
      caName: 'rootca2',
      holders: ['alice', 'bob'],
      operator: 'alice',
      witness: 'olivia',
      passphrases,
    });
    await initAuditKey(inst, { holders: ['leo'], authoriser: 'paula', witness: 'olivia', passphrases });
    const stamper = await openTimestamper(inst, { holder: 'bob', passphrases, purpose: 'audit checkpoint' });
    let r;
    try {
      r = await createCheckpoint(inst, { examiner: 'leo', passphrases, timestamper: stamper });
    } finally {
      stamper.close();
    }
    assert.ok(r.checkpoint.timeStampToken, 'the checkpoint carries a token');
    writeFileSync(join(dir, 'sig.bin'), r.checkpoint.signature);
    writeFileSync(join(dir, 'token.der'), r.checkpoint.timeStampToken);
    writeFileSync(join(dir, 'tsa.pem'), derToPem(activeTsa(inst)!.certificateDer!, 'CERTIFICATE'));
    const out = openssl([
      'ts',
      '-verify',
      '-data',
      join(dir, 'sig.bin'),
      '-in',
      join(dir, 'token.der'),
      '-token_in',
      '-CAfile',
      join(dir, 'rootca2.pem'),
      '-untrusted',
      join(dir, 'tsa.pem'),
    ]);
    assert.match(out, /Verification: OK/);
    writeFileSync(join(dir, 'other.bin'), Buffer.from('not the signature'));
    const bad = await import('./helpers.ts').then((h) =>
      h.run('openssl', [
        'ts',
        '-verify',
        '-data',
        join(dir, 'other.bin'),
        '-in',
        join(dir, 'token.der'),
        '-token_in',
        '-CAfile',
        join(dir, 'rootca2.pem'),
        '-untrusted',
        join(dir, 'tsa.pem'),
      ]),
    );
    assert.notEqual(bad.status, 0);
    assert.equal(inst.audit.verify().ok, true);
  });
});
