/** Shared by the archive tests: an installation with ecc-rootca1 and an internal TSA, CSRs made here, set listings. */
import { generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { activeTsa } from '../src/records/time-stamping.ts';
import { initTsa } from '../src/records/tsa-setup.ts';
import type { Installation } from '../src/installation/installation.ts';
import { renderInstallationConfig } from '../src/config/installation.ts';
import { assembleCertificationRequest, createCertificationRequestInfo } from '../src/pki/csr-build.ts';
import { createName } from '../src/pki/name.ts';
import { derToPem } from '../src/pki/pem.ts';
import { allPassphrases, installationWithPeople, passphraseMap, runShippedCeremony } from './helpers.ts';

export const ROOT = 'ecc-rootca1';

/** A PKCS#10 request for a P-256 key made and thrown away here. */
export function csr(cn: string): Buffer {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const info = createCertificationRequestInfo({
    subject: createName([
      { type: 'C', value: 'JP', encoding: 'printableString' },
      { type: 'O', value: 'Archive Test', encoding: 'printableString' },
      { type: 'CN', value: cn, encoding: 'printableString' },
    ]),
    subjectPublicKeyInfo: publicKey.export({ format: 'der', type: 'spki' }),
  });
  return assembleCertificationRequest(info, 'ecdsa-with-SHA256', sign('sha256', info, privateKey));
}

/** Complete set folders in a location, in order. */
export const sets = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((n) => /^backup-\d+-[0-9TZ]+$/.test(n))
        .sort()
    : [];

/** An installation with ecc-rootca1 and an internal TSA held by alice and bob; the secondary location outside the home. */
export async function archiveInstallation(dir: string): Promise<{ inst: Installation; secondary: string }> {
  const inst = installationWithPeople({ dir, more: true });
  const secondary = join(dir, 'remote', 'secondary');
  inst.config.archive.secondary = secondary;
  writeFileSync(join(inst.home, 'rootca.yaml'), renderInstallationConfig(inst.config));
  await runShippedCeremony(inst, ROOT, dir);
  await initTsa(inst, {
    caName: ROOT,
    holders: ['alice', 'bob'],
    operator: 'alice',
    witness: 'olivia',
    passphrases: passphraseMap(allPassphrases()),
  });
  writeFileSync(join(dir, 'tsa.pem'), derToPem(activeTsa(inst)!.certificateDer!, 'CERTIFICATE'));
  return { inst, secondary };
}

/** ROOTCA_PASSPHRASE_<NAME> for every test person, for the CLI. */
export const env = () =>
  Object.fromEntries(Object.entries(allPassphrases()).map(([k, v]) => [`ROOTCA_PASSPHRASE_${k.toUpperCase()}`, v]));
