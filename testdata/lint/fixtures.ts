/**
 * Test certificates for src/lint, made with the openssl CLI (OpenSSL 3.0) in a fresh temp
 * directory; keys are generated there and deleted with it, never committed. Mutation helpers
 * edit a parsed certificate and re-serialize it without re-signing: lints do not check
 * signatures, so this makes precise bad cases that openssl refuses to produce.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Certificate, Extension } from '@peculiar/asn1-x509';

export const SUBCA_CP = '1.2.392.200091.100.901.4';
export const TSA_CP = '1.2.392.200091.100.901.5';

export interface Issued {
  name: string;
  der: Uint8Array;
  cert: Certificate;
}

export interface Fixtures {
  dir: string;
  /** When the certificates were made: a `now` for which w_validity_at_lint_time is quiet. */
  now: Date;
  rootRsa: Issued;
  rootEc: Issued;
  subca: Issued;
  subcaEcUnderEcRoot: Issued;
  tsa: Issued;
  ta: Issued;
  ocsp: Issued;
  publication: Issued;
  subcaSha1: Issued;
  subcaShortSerial: Issued;
  subcaRsa1024: Issued;
  subcaRsaE3: Issued;
  subcaP521: Issued;
  subcaEcSha256UnderP384: Issued;
  subcaAkiWithIssuer: Issued;
  rootShort: Issued;
  cleanup(): void;
}

/** Runs openssl and returns stdout; throws with stderr on failure. */
export function openssl(dir: string, args: string[], input?: string): string {
  return execFileSync('openssl', args, { cwd: dir, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

function pemToDer(pem: string): Uint8Array {
  const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

export function readPemCertificate(path: string): Issued {
  const der = pemToDer(readFileSync(path, 'utf8'));
  return { name: path, der, cert: AsnConvert.parse(der, Certificate) };
}

const REQ_CONFIG = (ext: string): string => `[req]\ndistinguished_name = dn\nprompt = no\nx509_extensions = ext\n[dn]\nCN = unused\n[ext]\n${ext}\n`;

/** A random positive serial of `octets` octets (high bit clear, first octet non-zero). */
export function serialHex(octets = 16): string {
  const b = Buffer.alloc(octets);
  for (let i = 0; i < octets; i++) b[i] = Math.floor(Math.random() * 256);
  b[0] = (b[0]! & 0x7f) | 0x40;
  return `0x${b.toString('hex')}`;
}

export function makeFixtures(): Fixtures {
  const dir = mkdtempSync(join(tmpdir(), 'rootca-lint-'));
  const ssl = (args: string[]): string => openssl(dir, args);
  const key = (name: string, alg: string[]): string => {
    ssl(['genpkey', ...alg, '-out', `${name}.key`]);
    return `${name}.key`;
  };
  const rsa2048 = ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'];
  const ec = (curve: string): string[] => ['-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${curve}`, '-pkeyopt', 'ec_param_enc:named_curve'];

  const root = (name: string, keyFile: string, subj: string, md: string, days: number): Issued => {
    writeFileSync(join(dir, `${name}.cnf`), REQ_CONFIG('basicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash'));
    ssl(['req', '-x509', '-new', '-config', `${name}.cnf`, '-key', keyFile, '-subj', subj, `-${md}`, '-days', String(days), '-set_serial', serialHex(), '-out', `${name}.pem`]);
    return readPemCertificate(join(dir, `${name}.pem`));
  };

  const issue = (
    name: string,
    o: { keyFile: string; subj: string; ext: string; ca: string; md?: string; days?: number; serial?: string },
  ): Issued => {
    writeFileSync(join(dir, `${name}.cnf`), REQ_CONFIG('') + '');
    writeFileSync(join(dir, `${name}.ext`), `[ext]\n${o.ext}\n`);
    ssl(['req', '-new', '-config', `${name}.cnf`, '-key', o.keyFile, '-subj', o.subj, '-out', `${name}.csr`]);
    ssl([
      'x509', '-req', '-in', `${name}.csr`, '-CA', `${o.ca}.pem`, '-CAkey', `${o.ca}.key`, '-extfile', `${name}.ext`, '-extensions', 'ext',
      '-set_serial', o.serial ?? serialHex(), '-days', String(o.days ?? 3650), `-${o.md ?? 'sha256'}`, '-out', `${name}.pem`,
    ]);
    return readPemCertificate(join(dir, `${name}.pem`));
  };

  const rootRsaKey = key('rootRsa', rsa2048);
  const rootRsa = root('rootRsa', rootRsaKey, '/C=JP/O=Example Trust Co./CN=Example Root CA R1', 'sha256', 7305);
  const rootEcKey = key('rootEc', ec('P-384'));
  const rootEc = root('rootEc', rootEcKey, '/C=JP/O=Example Trust Co./CN=Example Root CA E1', 'sha384', 7305);
  const rootShort = root('rootShort', rootEcKey, '/C=JP/O=Example Trust Co./CN=Example Short Root', 'sha384', 365);

  const p256 = key('p256', ec('P-256'));
  const p256b = key('p256b', ec('P-256'));
  const aia = 'authorityInfoAccess = OCSP;URI:http://ocsp.example.jp/,caIssuers;URI:http://repo.example.jp/root.cer';
  const crldp = 'crlDistributionPoints = URI:http://repo.example.jp/root.crl';
  const subcaExt = (extra = ''): string =>
    [
      'basicConstraints = critical,CA:TRUE,pathlen:0',
      'keyUsage = critical,keyCertSign,cRLSign',
      // A TLS sub-CA: the EKU Mozilla 5.3 requires and the reserved OV policy BR 7.1.2.10.5 requires.
      'extendedKeyUsage = serverAuth,clientAuth',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid:always',
      `certificatePolicies = 2.23.140.1.2.2,${SUBCA_CP}`,
      crldp,
      aia,
      extra,
    ].join('\n');
  const subSubj = '/C=JP/O=Example Trust Co./CN=Example Issuing CA 1';

  const subca = issue('subca', { keyFile: p256, subj: subSubj, ext: subcaExt(), ca: 'rootRsa' });
  const subcaEcUnderEcRoot = issue('subcaEc', { keyFile: p256, subj: subSubj, ext: subcaExt(), ca: 'rootEc', md: 'sha384' });
  const subcaEcSha256UnderP384 = issue('subcaEc256', { keyFile: p256, subj: subSubj, ext: subcaExt(), ca: 'rootEc', md: 'sha256' });
  const tsaExt = [
    'basicConstraints = critical,CA:FALSE',
    'keyUsage = critical,digitalSignature',
    'extendedKeyUsage = critical,timeStamping',
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid:always',
    `certificatePolicies = ${TSA_CP}`,
    crldp,
  ].join('\n');
  const tsa = issue('tsa', { keyFile: p256b, subj: '/C=JP/O=Example Trust Co./CN=Example TSA 1', ext: tsaExt, ca: 'rootRsa' });
  const ta = issue('ta', { keyFile: p256b, subj: '/C=JP/O=Example Trust Co./CN=Example Time Authority 1', ext: tsaExt, ca: 'rootRsa' });
  const ocsp = issue('ocsp', {
    keyFile: p256b,
    subj: '/C=JP/O=Example Trust Co./CN=Example Root CA R1 OCSP Responder',
    ext: ['keyUsage = critical,digitalSignature', 'extendedKeyUsage = OCSPSigning', 'noCheck = ignored', 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid:always'].join('\n'),
    ca: 'rootRsa',
    days: 365,
  });
  const publication = issue('publication', {
    keyFile: p256b,
    subj: '/C=JP/O=Example Trust Co./CN=Example Root CA R1 Publication',
    ext: ['keyUsage = critical,digitalSignature', 'extendedKeyUsage = 1.3.6.1.5.5.7.3.36', 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid:always', crldp].join('\n'),
    ca: 'rootRsa',
    days: 397,
  });
  const subcaSha1 = issue('subcaSha1', { keyFile: p256, subj: subSubj, ext: subcaExt(), ca: 'rootRsa', md: 'sha1' });
  const subcaShortSerial = issue('subcaShort', { keyFile: p256, subj: subSubj, ext: subcaExt(), ca: 'rootRsa', serial: '0x01020304050607' });
  const subcaRsa1024 = issue('subca1024', { keyFile: key('rsa1024', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024']), subj: subSubj, ext: subcaExt(), ca: 'rootRsa' });
  const subcaRsaE3 = issue('subcaE3', {
    keyFile: key('rsaE3', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-pkeyopt', 'rsa_keygen_pubexp:3']),
    subj: subSubj,
    ext: subcaExt(),
    ca: 'rootRsa',
  });
  const subcaP521 = issue('subcaP521', { keyFile: key('p521', ec('P-521')), subj: subSubj, ext: subcaExt(), ca: 'rootRsa' });
  const subcaAkiWithIssuer = issue('subcaAkiIss', {
    keyFile: p256,
    subj: subSubj,
    ext: subcaExt().replace('authorityKeyIdentifier = keyid:always', 'authorityKeyIdentifier = keyid:always,issuer:always'),
    ca: 'rootRsa',
  });

  return {
    dir,
    now: new Date(),
    rootRsa,
    rootEc,
    subca,
    subcaEcUnderEcRoot,
    tsa,
    ta,
    ocsp,
    publication,
    subcaSha1,
    subcaShortSerial,
    subcaRsa1024,
    subcaRsaE3,
    subcaP521,
    subcaEcSha256UnderP384,
    subcaAkiWithIssuer,
    rootShort,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// -------------------------------------------------------------------------------------------
// Mutation helpers: parse a copy, edit it, serialize it (the signature no longer verifies).

export function copyOf(cert: Certificate): Certificate {
  return AsnConvert.parse(AsnConvert.serialize(cert), Certificate);
}

/** A DER certificate made from `base` after `edit` changed a copy of it. */
export function mutate(base: Issued | Certificate, edit: (c: Certificate) => void): Uint8Array {
  const c = copyOf(base instanceof Certificate ? base : base.cert);
  edit(c);
  delete c.tbsCertificateRaw;
  return new Uint8Array(AsnConvert.serialize(c));
}

export function removeExtension(c: Certificate, oid: string): void {
  const exts = c.tbsCertificate.extensions;
  if (!exts) return;
  for (let i = exts.length - 1; i >= 0; i--) if (exts[i]!.extnID === oid) exts.splice(i, 1);
}

/** Replaces (or adds) an extension; `value` is an asn1-schema object or raw DER bytes. */
export function setExtension(c: Certificate, oid: string, value: object | Uint8Array, critical = false): void {
  const bytes = value instanceof Uint8Array ? value : new Uint8Array(AsnConvert.serialize(value));
  const ext = new Extension({ extnID: oid, critical, extnValue: new OctetString(bytes) });
  const exts = c.tbsCertificate.extensions!;
  const i = exts.findIndex((e) => e.extnID === oid);
  if (i >= 0) exts[i] = ext;
  else exts.push(ext);
}

export function addExtension(c: Certificate, oid: string, value: object | Uint8Array, critical = false): void {
  const bytes = value instanceof Uint8Array ? value : new Uint8Array(AsnConvert.serialize(value));
  c.tbsCertificate.extensions!.push(new Extension({ extnID: oid, critical, extnValue: new OctetString(bytes) }));
}

export function getExtension(c: Certificate, oid: string): Extension | undefined {
  return c.tbsCertificate.extensions?.find((e) => e.extnID === oid);
}

export function setCritical(c: Certificate, oid: string, critical: boolean): void {
  const ext = getExtension(c, oid);
  if (!ext) throw new Error(`no extension ${oid}`);
  ext.critical = critical;
}

export function hexBytes(hex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
}
