/**
 * Issue 15 item 5: cross-certificates (BR 7.1.2.2; Boulder's cross-certificate and cross-csr
 * ceremonies). One root certifies another root's key from its self-signed certificate, subject
 * copied byte for byte (RootCA2's has no CN); a root signs a CSR of itself for another CA. OpenSSL
 * verifies both paths: the other root -> cross-certificate -> a sub-CA of the cross-certified
 * root, and the self-signed root -> that sub-CA.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { AsnConvert } from '@peculiar/asn1-schema';
import type { Installation } from '../src/installation/installation.ts';
import { issueCertificate } from '../src/issuance/issuance.ts';
import { crossCertify, signCrossCsr } from '../src/lifecycle/cross-certificate.ts';
import { parseCertificate } from '../src/pki/certificate.ts';
import { inspectCsr } from '../src/pki/csr.ts';
import { readDerOrPem } from '../src/pki/pem.ts';
import {
  allPassphrases,
  installationWithPeople,
  openssl,
  passphraseMap,
  REFERENCE_ROOTS,
  rejectsWith,
  run,
  runShippedCeremony,
  tempDir,
} from './helpers.ts';
import { TLS_SUBCA } from './subca-purpose.ts';

const people = { operator: 'alice', witness: 'olivia', passphrases: passphraseMap(allPassphrases()) };
const subjectBytes = (file: string) =>
  Buffer.from(
    AsnConvert.serialize(parseCertificate(readDerOrPem(readFileSync(file), 'CERTIFICATE')).tbsCertificate.subject),
  );
const spkiBytes = (file: string) =>
  Buffer.from(
    AsnConvert.serialize(
      parseCertificate(readDerOrPem(readFileSync(file), 'CERTIFICATE')).tbsCertificate.subjectPublicKeyInfo,
    ),
  );

describe('cross-certificates (BR 7.1.2.2)', () => {
  const dir = tempDir();
  const f = (n: string) => join(dir, n);
  let inst: Installation;
  const stored = () => (inst.db.prepare('SELECT count(*) AS n FROM certificates').get() as { n: number }).n;

  before(async () => {
    inst = installationWithPeople({ dir });
    inst.config.issuance.requireApplicationFor = []; // the sub-CA below is issued directly
    await runShippedCeremony(inst, 'rootca2', dir);
    await runShippedCeremony(inst, 'ecc-rootca1', dir);
    openssl(
      ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('sub.key')].concat(
        ['-out', f('sub.csr'), '-subj', '/C=JP/O=Example Trust/CN=Example RootCA2 Sub CA'],
      ),
    );
    await issueCertificate(inst, {
      ...people,
      ...TLS_SUBCA,
      caName: 'rootca2',
      profile: 'subca',
      csr: readFileSync(f('sub.csr')),
      outPem: f('sub.pem'),
    });
  });

  it('ECC RootCA1 cross-certifies RootCA2 (no CN): subject and key byte for byte; OpenSSL verifies both paths', async () => {
    const r = await crossCertify(inst, {
      ...people,
      ...TLS_SUBCA,
      caName: 'ecc-rootca1',
      certificate: readFileSync(f('rootca2.pem')),
      outPem: f('cross.pem'),
    });
    assert.deepEqual(subjectBytes(f('cross.pem')), subjectBytes(f('rootca2.pem')));
    assert.doesNotMatch(r.subject, /CN=/);
    assert.deepEqual(spkiBytes(f('cross.pem')), spkiBytes(f('rootca2.pem')));
    const text = openssl(['x509', '-in', f('cross.pem'), '-noout', '-text']);
    assert.match(
      text,
      /Issuer: C = JP, O = "SECOM Trust Systems CO\.,LTD\.", CN = Security Communication ECC RootCA1\n\s*Validity[\s\S]*Subject: C = JP, O = "SECOM Trust Systems CO\.,LTD\.", OU = Security Communication RootCA2\n/,
    );
    assert.match(text, /Extended Key Usage: \n\s*TLS Web Server Authentication\n/);
    assert.match(text, /Policy: 2\.23\.140\.1\.2\.2/);
    // Path 1: the other root trusted, through the cross-certificate, to RootCA2's sub-CA.
    const viaCross = openssl([
      'verify',
      '-x509_strict',
      '-CAfile',
      f('ecc-rootca1.pem'),
      '-untrusted',
      f('cross.pem'),
      f('sub.pem'),
    ]);
    assert.match(viaCross, /sub\.pem: OK/);
    // Path 2: RootCA2's self-signed certificate trusted directly.
    assert.match(openssl(['verify', '-x509_strict', '-CAfile', f('rootca2.pem'), f('sub.pem')]), /sub\.pem: OK/);
    // NSS (PKIX library) builds the same path: the sub-CA through the cross-certificate to the trusted other root.
    const nss = run('vfychain', [
      '-pp',
      '-u',
      '11',
      '-a',
      f('sub.pem'),
      '-a',
      f('cross.pem'),
      '-t',
      '-a',
      f('ecc-rootca1.pem'),
    ]);
    assert.match(nss.stdout + nss.stderr, /Chain is good!/, nss.stdout + nss.stderr);
    // Without the cross-certificate, the other root alone does not reach the sub-CA.
    assert.notEqual(run('openssl', ['verify', '-CAfile', f('ecc-rootca1.pem'), f('sub.pem')]).status, 0);
    const gnutls = run('certtool', ['-i', '--infile', f('cross.pem')]);
    assert.equal(gnutls.status, 0, gnutls.stderr);
    assert.match(gnutls.stdout, /Subject: OU=Security Communication RootCA2,O=SECOM Trust Systems CO\.\\,LTD\.,C=JP/);
    const row = inst.db
      .prepare('SELECT profile, csr_der, details FROM certificates WHERE serial_hex = ?')
      .get(r.serialHex) as {
      profile: string;
      csr_der: Buffer | null;
      details: string;
    };
    assert.equal(row.profile, 'subca');
    assert.equal(row.csr_der, null);
    assert.match(
      row.details,
      /"crossCertified":"C=JP, O=SECOM Trust Systems CO\.,LTD\., OU=Security Communication RootCA2"/,
    );
  });

  it('an unrestricted cross-certificate of the real SECOM RootCA2 (BR 7.1.2.2.4): anyExtendedKeyUsage and anyPolicy alone', async () => {
    const real = join(REFERENCE_ROOTS, 'Security_Communication_RootCA2.crt');
    await crossCertify(inst, {
      ...people,
      caName: 'ecc-rootca1',
      certificate: readFileSync(real),
      unrestricted: true,
      outPem: f('cross-real.pem'),
    });
    assert.deepEqual(subjectBytes(f('cross-real.pem')), subjectBytes(real));
    assert.deepEqual(spkiBytes(f('cross-real.pem')), spkiBytes(real));
    const text = openssl(['x509', '-in', f('cross-real.pem'), '-noout', '-text']);
    assert.match(text, /Extended Key Usage: \n\s*Any Extended Key Usage\n/);
    assert.match(text, /Certificate Policies:\s*\n\s*Policy: X509v3 Any Policy\s*\n\s*X509v3 CRL/);
    assert.match(openssl(['verify', '-CAfile', f('ecc-rootca1.pem'), f('cross-real.pem')]), /: OK/);
    const py = run('python3', [
      '-c',
      [
        'import sys',
        'from cryptography import x509',
        'c = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())',
        'r = x509.load_der_x509_certificate(open(sys.argv[2], "rb").read()) if open(sys.argv[2], "rb").read(1) == b"0" else x509.load_pem_x509_certificate(open(sys.argv[2], "rb").read())',
        'print(c.subject.public_bytes() == r.subject.public_bytes(), c.public_key().public_numbers() == r.public_key().public_numbers())',
      ].join('\n'),
      f('cross-real.pem'),
      real,
    ]);
    assert.equal(py.status, 0, py.stderr);
    assert.equal(py.stdout.trim(), 'True True');
  });

  it('refuses what BR 7.1.2.2 does not allow, with nothing signed or stored', async () => {
    const before = stored();
    const cross = (p: Partial<Parameters<typeof crossCertify>[1]>) =>
      crossCertify(inst, { ...people, caName: 'ecc-rootca1', certificate: readFileSync(f('rootca2.pem')), ...p });
    await rejectsWith(
      'CROSS_CERTIFICATE_REFUSED',
      () => cross({ ...TLS_SUBCA, certificate: readFileSync(f('sub.pem')) }),
      /not self-signed/,
    );
    await rejectsWith(
      'CROSS_CERTIFICATE_REFUSED',
      () =>
        cross({ ...TLS_SUBCA, certificate: readFileSync(join(REFERENCE_ROOTS, 'Security_Communication_Root_CA.crt')) }),
      /expired/,
    );
    await rejectsWith('CERTIFICATE_MALFORMED', () =>
      cross({ ...TLS_SUBCA, certificate: Buffer.from('not a certificate') }),
    );
    await rejectsWith('PURPOSE_REQUIRED', () => cross({}), /tls-server, smime/);
    await rejectsWith('PURPOSE_EKU_REFUSED', () => cross({ ...TLS_SUBCA, unrestricted: true }), /BR 7\.1\.2\.2\.4/);
    const tampered = readDerOrPem(readFileSync(f('rootca2.pem')), 'CERTIFICATE');
    tampered[tampered.length - 5] ^= 0xff;
    await rejectsWith(
      'CROSS_CERTIFICATE_REFUSED',
      () => cross({ ...TLS_SUBCA, certificate: tampered }),
      /does not verify/,
    );
    assert.equal(stored(), before);
  });

  it('cross-csr: RootCA2 signs a CSR of its own subject bytes and key; another CA cross-signs it and OpenSSL verifies the path', async () => {
    const r = await signCrossCsr(inst, { ...people, caName: 'rootca2', out: f('rootca2-cross.csr') });
    assert.match(openssl(['req', '-verify', '-noout', '-in', f('rootca2-cross.csr')]), /verify OK/i);
    const csr = inspectCsr(readFileSync(f('rootca2-cross.csr')));
    assert.deepEqual(csr.requested.subjectDer, subjectBytes(f('rootca2.pem')));
    assert.deepEqual(csr.requested.publicKeySpki, spkiBytes(f('rootca2.pem')));
    assert.equal(r.custodians.length, 2);
    // The other CA (a test root made with openssl) cross-signs the request.
    openssl(
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-384',
        '-nodes',
        '-keyout',
        f('other.key'),
      ].concat(['-out', f('other.pem'), '-subj', '/C=US/O=Other Trust/CN=Other Root', '-days', '3650']),
    );
    writeFileSync(
      f('xs.ext'),
      'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n',
    );
    openssl(
      ['x509', '-req', '-in', f('rootca2-cross.csr'), '-CA', f('other.pem'), '-CAkey', f('other.key')].concat([
        '-set_serial',
        '0x7a3c',
        '-days',
        '365',
        '-extfile',
        f('xs.ext'),
        '-out',
        f('other-cross.pem'),
      ]),
    );
    assert.deepEqual(subjectBytes(f('other-cross.pem')), subjectBytes(f('rootca2.pem')));
    assert.match(
      openssl(['verify', '-CAfile', f('other.pem'), '-untrusted', f('other-cross.pem'), f('sub.pem')]),
      /sub\.pem: OK/,
    );
    const event = inst.db
      .prepare("SELECT details FROM audit_events WHERE action = 'ca.cross-csr' AND outcome = 'success'")
      .get() as { details: string };
    assert.match(event.details, new RegExp(r.sha256));
    await rejectsWith('OUTPUT_EXISTS', () =>
      signCrossCsr(inst, { ...people, caName: 'rootca2', out: f('rootca2-cross.csr') }),
    );
  });
});
