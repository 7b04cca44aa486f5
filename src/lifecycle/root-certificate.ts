/**
 * The root key ceremony's self-signed certificate (root-ceremony.ts step 4): built from the
 * ceremony file, signed with exactly one activation of the new key, and checked before it is kept.
 */
import { createPublicKey, verify as verifySignature } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, type Extension } from '@peculiar/asn1-x509';
import type { RootCeremony } from '../config/ceremony.ts';
import { signOnceWithCaKey } from '../custody/activation.ts';
import type { NewCaKey } from '../custody/ca-keys.ts';
import { CaError } from '../errors.ts';
import type { Installation } from '../installation/installation.ts';
import type { Participant } from '../people/participants.ts';
import { SIGNATURE_ALGORITHMS } from '../pki/algorithms.ts';
import { assembleSignedCertificate, createTbsCertificate } from '../pki/certificate.ts';
import { basicConstraints, keyUsage, subjectKeyIdentifier } from '../pki/extensions.ts';
import type { createName } from '../pki/name.ts';
import { SERIAL_RANDOM_BYTES, serialFromRandom, serialToHex } from '../pki/serial.ts';

/** 4. The self-signed certificate, with exactly one activation (CPS 6.2.8/6.2.9), checked before it is kept. */
export async function signRootCertificate(
  inst: Installation,
  c: RootCeremony,
  record: NewCaKey['record'],
  x: { subject: ReturnType<typeof createName>; notBefore: Date; notAfter: Date; present: Participant[] },
): Promise<{ certificateDer: Buffer; serialHex: string }> {
  const extensions: Extension[] = c.extensions.map((e) => {
    switch (e.type) {
      case 'subjectKeyIdentifier':
        return subjectKeyIdentifier(record.publicKeySpki, e.critical);
      case 'keyUsage':
        return keyUsage(e.usages, e.critical);
      case 'basicConstraints':
        return basicConstraints({ cA: e.cA, pathLenConstraint: e.pathLenConstraint }, e.critical);
    }
  });
  const serial = serialFromRandom(inst.random(SERIAL_RANDOM_BYTES));
  const tbs = createTbsCertificate({
    serialNumber: serial,
    signatureAlgorithm: c.signatureAlgorithm,
    issuer: x.subject,
    subject: x.subject,
    notBefore: x.notBefore,
    notAfter: x.notAfter,
    subjectPublicKeyInfo: record.publicKeySpki,
    extensions,
  });
  const signature = await signOnceWithCaKey(
    inst,
    { record, custodians: x.present, purpose: `self-signed certificate of ${c.ca.name}`, target: c.ca.name },
    tbs.der,
    c.signatureAlgorithm,
  );
  const certificateDer = assembleSignedCertificate(tbs.der, c.signatureAlgorithm, signature);
  selfCheck(certificateDer, tbs.der, signature, record.publicKeySpki, SIGNATURE_ALGORITHMS[c.signatureAlgorithm].hash);
  return { certificateDer, serialHex: serialToHex(serial) };
}

/** The signature verifies with the key, and the DER is canonical (parse + re-encode gives the same bytes). */
function selfCheck(certDer: Buffer, tbsDer: Buffer, signature: Uint8Array, spki: Uint8Array, hash: string): void {
  const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  if (!verifySignature(hash, tbsDer, key, signature))
    throw new CaError('SELF_CHECK_FAILED', 'the new signature does not verify with the generated key');
  const reencoded = Buffer.from(AsnConvert.serialize(AsnConvert.parse(certDer, Certificate)));
  if (!reencoded.equals(certDer)) throw new CaError('SELF_CHECK_FAILED', 'the certificate DER is not canonical');
}
