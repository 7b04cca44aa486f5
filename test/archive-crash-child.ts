/**
 * Child process for the crash-safety test (test/archive.test.ts): issues certificates and makes
 * backups in a loop until the parent kills it with SIGKILL — at a random moment, or right after
 * a backup step it announces on stdout (`step NAME`). Passphrases come
 * from ROOTCA_TEST_PASSPHRASES (JSON); the home is argv[2].
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { backupNow, onBackupStep } from '../src/records/backups.ts';
import { openInstallation } from '../src/installation/installation.ts';
import { issueCertificate } from '../src/issuance/issuance.ts';
import { assembleCertificationRequest, createCertificationRequestInfo } from '../src/pki/csr-build.ts';
import { createName } from '../src/pki/name.ts';
import { passphraseMap } from './helpers.ts';

const home = process.argv[2]!;
const passphrases = passphraseMap(JSON.parse(process.env.ROOTCA_TEST_PASSPHRASES ?? '{}') as Record<string, string>);
const inst = openInstallation(home);

function csr(cn: string): Buffer {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const info = createCertificationRequestInfo({
    subject: createName([
      { type: 'C', value: 'JP', encoding: 'printableString' },
      { type: 'O', value: 'Crash Test', encoding: 'printableString' },
      { type: 'CN', value: cn, encoding: 'printableString' },
    ]),
    subjectPublicKeyInfo: publicKey.export({ format: 'der', type: 'spki' }),
  });
  return assembleCertificationRequest(info, 'ecdsa-with-SHA256', sign('sha256', info, privateKey));
}

// Announce each backup step; at ROOTCA_TEST_PAUSE_AT, hold still so the parent's SIGKILL lands exactly there.
const pauseAt = process.env.ROOTCA_TEST_PAUSE_AT;
onBackupStep((name) => {
  process.stdout.write(`step ${name}\n`);
  if (name === pauseAt) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5000);
});
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  const r = await issueCertificate(inst, {
    caName: 'ecc-rootca1',
    profile: 'ocsp',
    csr: csr(`responder ${process.pid}-${i}`),
    operator: 'alice',
    witness: 'olivia',
    passphrases,
  });
  process.stdout.write(
    `issued ${r.serialHex} backup ${r.backup.ok ? r.backup.set : `FAILED ${r.backup.error?.message}`}\n`,
  );
  const b = await backupNow(inst, { operator: 'bob', passphrases });
  process.stdout.write(`backup ${b.set}\n`);
}
