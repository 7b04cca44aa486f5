/**
 * The root key ceremony's self-signed certificate (root-ceremony.ts step 4), signed as issuance
 * signs (CONVENTIONS 5): the TBS signed with a throwaway key of the same type is linted with the
 * root profile (root-ceremony-lint.ts), the real key signs that TBS with exactly one activation,
 * and the result must carry the same TBS bytes, verify, lint clean again and be canonical DER.
 */
import { createPublicKey, verify as verifySignature } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import type { RootCeremony } from '../config/ceremony.ts';
import { signOnceWithCaKey } from '../custody/activation.ts';
import type { NewCaKey } from '../custody/ca-keys.ts';
import { CaError } from '../errors.ts';
import type { Installation } from '../installation/installation.ts';
import type { Participant } from '../people/participants.ts';
import { SIGNATURE_ALGORITHMS } from '../pki/algorithms.ts';
import { assembleSignedCertificate, tbsBytesOf } from '../pki/certificate.ts';
import type { createName } from '../pki/name.ts';
import { SERIAL_RANDOM_BYTES, serialFromRandom, serialToHex } from '../pki/serial.ts';
import { throwawayLike } from '../status/crl-and-ocsp.ts';
import { lintRootCertificate, rootTbs, throwawaySigned, type RootLintResult } from './root-ceremony-lint.ts';

/** 4. The self-signed certificate, linted, then signed with exactly one activation (CPS 6.2.8/6.2.9), checked before it is kept. */
export async function signRootCertificate(
  inst: Installation,
  c: RootCeremony,
  record: NewCaKey['record'],
  x: { subject: ReturnType<typeof createName>; notBefore: Date; notAfter: Date; present: Participant[] },
): Promise<{ certificateDer: Buffer; serialHex: string; lint: RootLintResult }> {
  const serial = serialFromRandom(inst.random(SERIAL_RANDOM_BYTES));
  const spki = Buffer.from(record.publicKeySpki);
  const tbs = rootTbs(c, { ...x, serial, spki });
  const now = inst.clock.now();
  const preCert = throwawaySigned(c, tbs.der, throwawayLike(spki));
  const lint = lintRootCertificate(preCert, c, now);
  const signature = await signOnceWithCaKey(
    inst,
    { record, custodians: x.present, purpose: `self-signed certificate of ${c.ca.name}`, target: c.ca.name },
    tbs.der,
    c.signatureAlgorithm,
  );
  const certificateDer = assembleSignedCertificate(tbs.der, c.signatureAlgorithm, signature);
  if (!tbsBytesOf(certificateDer).equals(tbsBytesOf(preCert)))
    throw new CaError('TBS_CHANGED', 'the signed TBS differs from the linted one');
  selfCheck(certificateDer, tbs.der, signature, spki, SIGNATURE_ALGORITHMS[c.signatureAlgorithm].hash);
  lintRootCertificate(certificateDer, c, now);
  return { certificateDer, serialHex: serialToHex(serial), lint };
}

/** The signature verifies with the key, and the DER is canonical (parse + re-encode gives the same bytes). */
function selfCheck(certDer: Buffer, tbsDer: Buffer, signature: Uint8Array, spki: Uint8Array, hash: string): void {
  const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  if (!verifySignature(hash, tbsDer, key, signature))
    throw new CaError('SELF_CHECK_FAILED', 'the new signature does not verify with the generated key');
  const reencoded = Buffer.from(AsnConvert.serialize(AsnConvert.parse(certDer, Certificate)));
  if (!reencoded.equals(certDer)) throw new CaError('SELF_CHECK_FAILED', 'the certificate DER is not canonical');
}
