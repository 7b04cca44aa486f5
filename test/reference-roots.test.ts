/**
 * each shipped ceremony makes a root whose certificate matches the real SECOM root of
 * its row field by field (DER structures, not text), except key, serial, dates and signature;
 * OpenSSL accepts each one; the private keys never rest unencrypted on disk (R-6.1, CPS 6.2.6).
 */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Certificate, Validity } from '@peculiar/asn1-x509';
import type { Installation } from '../src/installation/installation.ts';
import { loadSoftKey } from '../src/custody/key-records.ts';
import { getOperator } from '../src/people/operators.ts';
import { unlockCredential } from '../src/keys/credential.ts';
import { reconstructPrivateKeyPkcs8 } from '../src/keys/soft-store.ts';
import { pemToDer } from '../src/pki/pem.ts';
import type { RootCeremonyResult } from '../src/lifecycle/root-ceremony.ts';
import { installationWithPeople, openssl, PEOPLE, REFERENCE_ROOTS, runShippedCeremony, tempDir } from './helpers.ts';

const ROWS = [
  {
    ceremony: 'rootca1',
    reference: 'Security_Communication_Root_CA.crt',
    sigalg: 'sha1WithRSAEncryption',
    key: '(2048 bit)',
  },
  {
    ceremony: 'rootca2',
    reference: 'Security_Communication_RootCA2.crt',
    sigalg: 'sha256WithRSAEncryption',
    key: '(2048 bit)',
  },
  {
    ceremony: 'rootca3',
    reference: 'Security_Communication_RootCA3.crt',
    sigalg: 'sha384WithRSAEncryption',
    key: '(4096 bit)',
  },
  {
    ceremony: 'ecc-rootca1',
    reference: 'Security_Communication_ECC_RootCA1.crt',
    sigalg: 'ecdsa-with-SHA384',
    key: '(384 bit)',
  },
] as const;

const SKI_OID = '2.5.29.14';

/**
 * The certificate with the parts that legitimately differ blanked: serial, validity, the
 * public key bits (its algorithm and parameters stay), the SKI value (its presence,
 * position, criticality and 20-byte size stay) and the signature (its algorithm stays).
 */
function comparable(der: Uint8Array): Buffer {
  const cert = AsnConvert.parse(der, Certificate);
  const tbs = cert.tbsCertificate;
  tbs.serialNumber = new Uint8Array([1]).buffer;
  tbs.validity = new Validity({
    notBefore: new Date('2000-01-01T00:00:00Z'),
    notAfter: new Date('2000-01-02T00:00:00Z'),
  });
  tbs.subjectPublicKeyInfo.subjectPublicKey = new ArrayBuffer(0);
  for (const ext of tbs.extensions ?? []) {
    if (ext.extnID === SKI_OID) {
      const inner = Buffer.from(ext.extnValue.buffer);
      assert.equal(inner[0], 0x04, 'SKI is an OCTET STRING');
      assert.equal(inner[1], 20, 'SKI is a 160-bit key identifier');
      ext.extnValue = new OctetString(Buffer.concat([inner.subarray(0, 2), Buffer.alloc(20)]));
    }
  }
  cert.signatureValue = new ArrayBuffer(0);
  cert.tbsCertificateRaw = undefined;
  return Buffer.from(AsnConvert.serialize(cert));
}

describe('R-1.1 the four root ceremonies', () => {
  let inst: Installation;
  let out: string;
  const made = new Map<string, RootCeremonyResult>();

  before(async () => {
    const dir = tempDir();
    out = join(dir, 'out');
    (await import('node:fs')).mkdirSync(out);
    inst = installationWithPeople({ dir });
    for (const row of ROWS) made.set(row.ceremony, await runShippedCeremony(inst, row.ceremony, out));
  });
  after(() => inst?.close());

  for (const row of ROWS) {
    describe(row.ceremony, () => {
      it('matches the real certificate field by field (DER), except key, serial, dates, signature', () => {
        const ours = made.get(row.ceremony)!.certificateDer;
        const reference = pemToDer(readFileSync(join(REFERENCE_ROOTS, row.reference), 'utf8'), 'CERTIFICATE');
        assert.deepEqual(comparable(ours).toString('hex'), comparable(reference).toString('hex'));
      });

      it('is accepted by openssl x509 and openssl verify, with the claimed algorithm and key size', () => {
        const pem = join(out, `${row.ceremony}.pem`);
        const text = openssl(['x509', '-in', pem, '-noout', '-text']);
        assert.match(text, new RegExp(`Signature Algorithm: ${row.sigalg}`));
        assert.ok(text.includes(`Public-Key: ${row.key}`), `key size ${row.key}`);
        if (row.ceremony === 'ecc-rootca1') assert.match(text, /NIST CURVE: P-384/);
        assert.match(openssl(['verify', '-CAfile', pem, pem]), /: OK/);
      });

      it('is canonical DER: re-encoding the parsed certificate gives the same bytes; PEM and DER outputs agree', () => {
        const der = made.get(row.ceremony)!.certificateDer;
        assert.ok(Buffer.from(AsnConvert.serialize(AsnConvert.parse(der, Certificate))).equals(der));
        assert.ok(readFileSync(join(out, `${row.ceremony}.der`)).equals(der));
        openssl([
          'x509',
          '-in',
          join(out, `${row.ceremony}.pem`),
          '-outform',
          'DER',
          '-out',
          join(out, `${row.ceremony}.openssl.der`),
        ]);
        assert.ok(
          readFileSync(join(out, `${row.ceremony}.openssl.der`)).equals(der),
          'openssl re-encodes to the same DER',
        );
        const x = new X509Certificate(der);
        assert.ok(x.verify(x.publicKey), 'self-signature verifies');
      });

      it('has a 20-year validity (CPS 6.3.2) and a positive serial of at least 64 bits', () => {
        const r = made.get(row.ceremony)!;
        assert.equal(r.notAfter.getUTCFullYear() - r.notBefore.getUTCFullYear(), 20);
        assert.ok(
          r.serialHex.length >= 16 && parseInt(r.serialHex.slice(0, 2), 16) < 0x80 && r.serialHex.slice(0, 2) !== '00',
        );
      });
    });
  }

  it('R-1.3 RootCA1 says that SHA-1 is legacy; the others do not', () => {
    assert.match(made.get('rootca1')!.warnings.join('\n'), /LEGACY.*sha1WithRSAEncryption.*R-1\.3/);
    assert.doesNotMatch(made.get('rootca2')!.warnings.join('\n'), /sha1/);
    for (const n of ['rootca3', 'ecc-rootca1']) assert.deepEqual(made.get(n)!.warnings, []);
  });

  it('issue 15.3: RootCA1 and RootCA2 pass the root lint only through the allowance naming the real certificate', () => {
    const waived = (n: string) =>
      made
        .get(n)!
        .warnings.filter((w) => w.startsWith('LEGACY ALLOWANCE'))
        .map((w) => /: (\w+) waived/.exec(w)![1]);
    assert.deepEqual(waived('rootca2'), ['w_ca_subject_missing_attributes']);
    assert.deepEqual(waived('rootca1').sort(), [
      'e_key_usage_missing_or_not_critical',
      'e_sha1_signature',
      'w_ca_subject_missing_attributes',
    ]);
  });

  it('R-6.1 no private key (PKCS#8, or its secret numbers) is anywhere in the installation or outputs', async () => {
    const secrets: { what: string; bytes: Buffer }[] = [];
    for (const row of ROWS) {
      const record = loadSoftKey(inst, made.get(row.ceremony)!.keyId);
      const present = ['alice', 'carol'].map((n) =>
        unlockCredential(n, getOperator(inst, n).credential, Buffer.from(PEOPLE[n as 'alice'].passphrase)),
      );
      const pkcs8 = await reconstructPrivateKeyPkcs8(record, present);
      const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
      assert.ok(
        createPublicKey(key).export({ format: 'der', type: 'spki' }).equals(record.publicKeySpki),
        'the quorum rebuilds the right key',
      );
      const jwk = key.export({ format: 'jwk' });
      secrets.push({ what: `${row.ceremony} PKCS#8`, bytes: pkcs8 });
      for (const part of ['d', 'p', 'q'] as const) {
        if (jwk[part]) secrets.push({ what: `${row.ceremony} ${part}`, bytes: Buffer.from(jwk[part]!, 'base64url') });
      }
      for (const s of present) s.lock();
    }
    inst.db.pragma('wal_checkpoint(PASSIVE)');
    const files = [...walk(inst.home), ...walk(out)];
    assert.ok(files.some((f) => f.endsWith('rootca.db')));
    for (const f of files) {
      const content = readFileSync(f);
      for (const s of secrets) {
        // A 16-byte window of each secret is enough to find any copy of it.
        assert.equal(content.indexOf(s.bytes.subarray(0, 16)), -1, `${s.what} found in ${f}`);
      }
    }
    writeFileSync(join(out, 'scanned.txt'), files.join('\n'));
  });
});

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}
