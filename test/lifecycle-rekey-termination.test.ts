/**
 * CPS 5.8 termination of a re-keyed CA (CPS 5.6): the retired key is destroyed with the
 * current one, under the same quorum and witness, and the final CRL revokes what both keys
 * issued — OpenSSL checks the old key's subordinate against it from the new root.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { issueCertificate } from '../src/issuance/issuance.ts';
import { rekeyCa } from '../src/lifecycle/rekey.ts';
import { currentCrl } from '../src/status/crl-and-ocsp.ts';
import { terminateCa } from '../src/lifecycle/termination.ts';
import { announceTermination } from '../src/lifecycle/termination-notice.ts';
import { getCa } from '../src/installation/cas.ts';
import { fixedClock } from '../src/clock.ts';
import { addUtcMonths } from '../src/lint/crl/support.ts';
import {
  allPassphrases,
  installationWithPeople,
  openssl,
  passphraseMap,
  run,
  runShippedCeremony,
  tempDir,
} from './helpers.ts';
import { TLS_SUBCA } from './subca-purpose.ts';

const DAY = 86_400_000;
const CA = 'ecc-rootca1';

describe('CPS 5.8 termination of a re-keyed CA', () => {
  it('destroys the retired key too and revokes what both keys issued', async (t) => {
    const dir = tempDir('rootca-rekey-term-');
    // Start 130 days ago so the termination runs at the real time and OpenSSL needs no faked clock.
    const clock = fixedClock(new Date(Date.now() - 130 * DAY));
    const inst = installationWithPeople({ dir, more: true, clock });
    t.after(() => inst.close()); // closed whether the test passes or not
    inst.config.issuance.requireApplicationFor = [];
    const people = { operator: 'alice', witness: 'olivia', passphrases: passphraseMap(allPassphrases()) };
    await runShippedCeremony(inst, CA, dir);
    openssl([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      join(dir, 'sub.key'),
      '-out',
      join(dir, 'sub.csr'),
      '-subj',
      '/C=JP/O=Example/CN=old-key sub',
    ]);
    const sub = await issueCertificate(inst, {
      ...people,
      caName: CA,
      profile: 'subca',
      ...TLS_SUBCA,
      csr: readFileSync(join(dir, 'sub.csr')),
      pathLenConstraint: 0,
    });
    writeFileSync(join(dir, 'sub.pem'), sub.certificatePem);
    const rekeyed = await rekeyCa(inst, { ...people, caName: CA, outDir: join(dir, 'rekey') });

    await announceTermination(inst, {
      caName: CA,
      authoriser: 'paula',
      passphrases: people.passphrases,
      date: new Date(addUtcMonths(clock.now(), 3).getTime() + DAY).toISOString().slice(0, 10),
    });
    clock.set(new Date());
    await terminateCa(inst, { ...people, caName: CA, authoriser: 'paula' });

    const status = (k: string) =>
      (inst.db.prepare('SELECT status FROM ca_keys WHERE key_id = ?').get(k) as { status: string }).status;
    assert.deepEqual([status(rekeyed.previousKeyId), status(rekeyed.keyId)], ['destroyed', 'destroyed']);
    const ev = inst.audit
      .list()
      .filter((e) => e.action === 'ca.terminate' && e.outcome === 'success')
      .at(-1)!;
    assert.deepEqual((ev.details as { retiredKeysDestroyed: string[] }).retiredKeysDestroyed, [rekeyed.previousKeyId]);
    const destroyed = inst.audit
      .list()
      .filter((e) => e.action === 'key.destroy' && e.outcome === 'success')
      .map((e) => (e.details as { keyId: string }).keyId);
    assert.deepEqual(destroyed, [rekeyed.previousKeyId, rekeyed.keyId]);
    assert.equal(getCa(inst, CA).status, 'terminated');

    // The final CRL (current key) revokes the old key's sub; OpenSSL, from the new root through OldWithNew.
    const crl = currentCrl(inst, getCa(inst, CA).id)!;
    writeFileSync(join(dir, 'final.crl'), crl.der);
    const v = run('openssl', [
      'verify',
      '-crl_check',
      '-CRLfile',
      join(dir, 'final.crl'),
      '-CAfile',
      join(dir, 'rekey', `${CA}.pem`),
      '-untrusted',
      join(dir, 'rekey', `${CA}-oldwithnew.pem`),
      join(dir, 'sub.pem'),
    ]);
    assert.notEqual(v.status, 0);
    assert.match(v.stdout + v.stderr, /certificate revoked/);
  });
});
