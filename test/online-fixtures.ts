/**
 * Fixtures for the online side: two roots made with the OpenSSL CLI (RSA 2048 / sha256, and
 * ECDSA P-384 / sha384), subordinate certificates they issued (`openssl x509 -req`), a
 * delegated OCSP responder with an encrypted PKCS#8 key, and publication files assembled with
 * src/publish/write.ts, with CRLs and pre-signed OCSP responses signed by the roots' keys
 * through node:crypto (as the offline side's one-shot signer would).
 */
import { spawn } from 'node:child_process';
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithmName } from '../src/pki/algorithms.ts';
import { parseCertificate } from '../src/pki/certificate.ts';
import { assembleSignedCrl, createTbsCertList, type RevocationReason } from '../src/pki/crl.ts';
import { keyIdentifierFromSpki } from '../src/pki/extensions.ts';
import {
  assembleOcspResponse,
  certIdLookupKey,
  certIdsFor,
  createTbsResponseData,
  type CertStatus,
} from '../src/pki/ocsp.ts';
import { pemToDer } from '../src/pki/pem.ts';
import { writePublication, type PublicationInput } from '../src/publish/write.ts';
import { certificateInfo, type CertificateInfo } from '../src/pki/certificate-info.ts';
import { openssl, tempDir } from './helpers.ts';
import { OPENSSL_CA_CNF, OPENSSL_RESPONDER_EXT } from './openssl-runner.ts';

export interface TestRoot {
  name: string;
  /** PEM file of the certificate (absolute). */
  pem: string;
  der: Buffer;
  info: CertificateInfo;
  key: KeyObject;
  alg: SignatureAlgorithmName;
}

export interface TestCert {
  name: string;
  ca: string;
  serialHex: string;
  pem: string;
  der: Buffer;
  info: CertificateInfo;
}

export interface PublicationOptions {
  version: number;
  createdAt?: Date;
  /** serialHex -> revocation. */
  revoked?: Record<string, { at: Date; reason?: RevocationReason }>;
  /** Certificates (by name) that get no pre-signed OCSP response. */
  withoutOcsp?: string[];
  /** Sign the manifest with this root (default rsa). */
  signer?: TestRoot;
  /** Publish only these roots (default both). */
  roots?: TestRoot[];
  ocspValidityMs?: number;
}

const SUBCA_EXT = `basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
authorityKeyIdentifier = keyid
subjectKeyIdentifier = hash
`;

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const wholeSecond = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);

export class OnlineFixture {
  readonly dir: string;
  readonly rsa: TestRoot;
  readonly ec: TestRoot;
  /** Issued by rsa: sub1, sub2 (revoked in later publications), responder; by ec: ecsub. */
  readonly certs: TestCert[] = [];
  readonly responder: { cert: string; key: string; passphrase: string; info: CertificateInfo };
  /** A look-alike root (same subject as the RSA root, another key) that no Repository trusts. */
  readonly stranger: TestRoot;

  constructor() {
    this.dir = tempDir('rootca-online-');
    writeFileSync(this.path('ca.cnf'), OPENSSL_CA_CNF);
    writeFileSync(this.path('subca.ext'), SUBCA_EXT);
    writeFileSync(this.path('responder.ext'), OPENSSL_RESPONDER_EXT);
    this.rsa = this.makeRoot(
      'rsaroot',
      ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
      'sha256WithRSAEncryption',
      'Example RSA Root',
    );
    this.ec = this.makeRoot(
      'ecroot',
      ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
      'ecdsa-with-SHA384',
      'Example ECC Root',
    );
    this.stranger = this.makeRoot(
      'stranger',
      ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
      'ecdsa-with-SHA256',
      'Example RSA Root',
    );
    this.issue(this.rsa, 'sub1', '7a11c0de0001', 'subca.ext');
    this.issue(this.rsa, 'sub2', '9b22c0de0002', 'subca.ext'); // high bit: INTEGER 00 9b …
    this.issue(this.ec, 'ecsub', '3c33c0de0003', 'subca.ext');
    const passphrase = `responder-${process.pid}-passphrase`;
    openssl(
      [
        'genpkey',
        '-algorithm',
        'EC',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-aes-256-cbc',
        '-pass',
        `pass:${passphrase}`,
        '-out',
        'responder.key',
      ],
      { cwd: this.dir },
    );
    openssl(
      [
        'req',
        '-new',
        '-key',
        'responder.key',
        '-passin',
        `pass:${passphrase}`,
        '-subj',
        '/C=JP/O=Example Trust/CN=Example RSA Root OCSP Responder',
        '-out',
        'responder.csr',
      ],
      { cwd: this.dir },
    );
    openssl(
      [
        'x509',
        '-req',
        '-in',
        'responder.csr',
        '-CA',
        this.rsa.pem,
        '-CAkey',
        'rsaroot.key',
        '-set_serial',
        '0x5e5e0000aa01',
        '-days',
        '30',
        '-sha256',
        '-extfile',
        'responder.ext',
        '-out',
        'responder.pem',
      ],
      { cwd: this.dir },
    );
    const rder = pemToDer(readFileSync(this.path('responder.pem'), 'utf8'), 'CERTIFICATE');
    this.certs.push({
      name: 'responder',
      ca: 'rsaroot',
      serialHex: '5e5e0000aa01',
      pem: this.path('responder.pem'),
      der: rder,
      info: certificateInfo(rder),
    });
    this.responder = {
      cert: this.path('responder.pem'),
      key: this.path('responder.key'),
      passphrase,
      info: certificateInfo(rder),
    };
  }

  path(f: string): string {
    return join(this.dir, f);
  }

  /** A self-signed P-256 TLS certificate for 127.0.0.1 (tls.pem, tls.key in the fixture's folder), made by openssl. */
  tlsCertificate(): { cert: Buffer; key: Buffer; certPath: string; keyPath: string } {
    openssl(
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'tls.key'].concat([
        '-out',
        'tls.pem',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-days',
        '2',
      ]),
      { cwd: this.dir },
    );
    const certPath = this.path('tls.pem');
    const keyPath = this.path('tls.key');
    return { cert: readFileSync(certPath), key: readFileSync(keyPath), certPath, keyPath };
  }

  cert(name: string): TestCert {
    return this.certs.find((c) => c.name === name)!;
  }

  private makeRoot(name: string, keyArgs: string[], alg: SignatureAlgorithmName, cn: string): TestRoot {
    const digest = `-${SIGNATURE_ALGORITHMS[alg].hash}`;
    openssl(['genpkey', ...keyArgs, '-out', `${name}.key`], { cwd: this.dir });
    openssl(
      [
        'req',
        '-x509',
        '-new',
        '-config',
        'ca.cnf',
        '-key',
        `${name}.key`,
        '-subj',
        `/C=JP/O=Example Trust/CN=${cn}`,
        '-days',
        '3650',
        digest,
        '-out',
        `${name}.pem`,
      ],
      { cwd: this.dir },
    );
    const der = pemToDer(readFileSync(this.path(`${name}.pem`), 'utf8'), 'CERTIFICATE');
    return {
      name,
      pem: this.path(`${name}.pem`),
      der,
      info: certificateInfo(der),
      key: createPrivateKey(readFileSync(this.path(`${name}.key`))),
      alg,
    };
  }

  private issue(ca: TestRoot, name: string, serialHex: string, ext: string): void {
    openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`], {
      cwd: this.dir,
    });
    openssl(
      ['req', '-new', '-key', `${name}.key`, '-subj', `/C=JP/O=Example Trust/CN=${name}`, '-out', `${name}.csr`],
      { cwd: this.dir },
    );
    openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        ca.pem,
        '-CAkey',
        `${ca.name}.key`,
        '-set_serial',
        `0x${serialHex}`,
        '-days',
        '365',
        `-${SIGNATURE_ALGORITHMS[ca.alg].hash}`,
        '-extfile',
        ext,
        '-out',
        `${name}.pem`,
      ],
      { cwd: this.dir },
    );
    const der = pemToDer(readFileSync(this.path(`${name}.pem`), 'utf8'), 'CERTIFICATE');
    this.certs.push({ name, ca: ca.name, serialHex, pem: this.path(`${name}.pem`), der, info: certificateInfo(der) });
  }

  /** A publication file (bytes), signed by `o.signer` (default the RSA root). */
  async publication(o: PublicationOptions): Promise<Buffer> {
    const created = wholeSecond((o.createdAt ?? new Date(Date.now() - MINUTE)).getTime());
    const roots = o.roots ?? [this.rsa, this.ec];
    const revoked = o.revoked ?? {};
    const signWith = (root: TestRoot, data: Buffer) => sign(SIGNATURE_ALGORITHMS[root.alg].hash, data, root.key);
    const input: PublicationInput = {
      installation: 'online-test',
      version: o.version,
      createdAt: created,
      baseUrl: 'http://repository.example.jp',
      signerCa: (o.signer ?? this.rsa).name,
      cas: [],
      certificates: [],
      ocspResponses: [],
      documents: [
        {
          name: 'cps',
          text: '# Certification Practice Statement\n\nVersion 5.11.\n',
          meta: { title: 'Certification Practice Statement', version: '5.11' },
        },
        {
          name: 'cps',
          text: '# Certification Practice Statement\n\nVersion 5.12.\n',
          meta: { title: 'Certification Practice Statement', version: '5.12' },
        },
        {
          name: 'cp-subca',
          text: '# Certificate Policy for Subordinate CAs\n',
          meta: { title: 'Certificate Policy: Subordinate CA', version: '1.0' },
        },
      ],
    };
    for (const root of roots) {
      const entries = this.certs
        .filter((c) => c.ca === root.name && revoked[c.serialHex])
        .map((c) => ({
          serialHex: c.serialHex,
          revocationDate: revoked[c.serialHex]!.at,
          reason: revoked[c.serialHex]!.reason,
        }));
      const { der: tbs } = createTbsCertList({
        signatureAlgorithm: root.alg,
        issuer: parseCertificate(root.der).tbsCertificate.subject,
        thisUpdate: created,
        nextUpdate: new Date(created.getTime() + 30 * DAY),
        crlNumber: BigInt(o.version),
        authorityKeyIdentifier: keyIdentifierFromSpki(root.info.spkiDer),
        entries,
      });
      const crl = assembleSignedCrl(tbs, root.alg, signWith(root, tbs));
      input.cas.push({
        name: root.name,
        certificateDer: root.der,
        meta: {
          subject: root.info.subject,
          notBefore: root.info.notBefore.toISOString(),
          notAfter: root.info.notAfter.toISOString(),
          fingerprint: root.info.fingerprint,
          status: 'active',
        },
        crl: {
          der: crl,
          meta: {
            crlNumber: String(o.version),
            thisUpdate: created.toISOString(),
            nextUpdate: new Date(created.getTime() + 30 * DAY).toISOString(),
          },
        },
      });
      for (const c of this.certs.filter((x) => x.ca === root.name)) {
        const r = revoked[c.serialHex];
        input.certificates.push({
          ca: root.name,
          der: c.der,
          meta: {
            serialHex: c.serialHex,
            subject: c.info.subject,
            profile: c.name === 'responder' ? 'ocsp' : 'subca',
            notBefore: c.info.notBefore.toISOString(),
            notAfter: c.info.notAfter.toISOString(),
            status: r ? 'revoked' : 'good',
            ...(r ? { revokedAt: r.at.toISOString(), ...(r.reason ? { reason: r.reason } : {}) } : {}),
          },
        });
        if (o.withoutOcsp?.includes(c.name)) continue;
        const status: CertStatus = r
          ? r.reason
            ? { status: 'revoked', revocationTime: r.at, reason: r.reason }
            : { status: 'revoked', revocationTime: r.at }
          : { status: 'good' };
        const nextUpdate = new Date(created.getTime() + (o.ocspValidityMs ?? 30 * DAY));
        for (const certId of certIdsFor(root.der, c.serialHex)) {
          const { der: tbsResp } = createTbsResponseData({
            responderKeyHash: keyIdentifierFromSpki(root.info.spkiDer),
            producedAt: created,
            responses: [{ certId, status, thisUpdate: created, nextUpdate }],
          });
          input.ocspResponses.push({
            ca: root.name,
            der: assembleOcspResponse(tbsResp, root.alg, signWith(root, tbsResp)),
            meta: {
              serialHex: c.serialHex,
              certIdKey: certIdLookupKey(certId),
              hashAlgorithm: certId.hashAlgorithm,
              status: status.status as 'good' | 'revoked',
              thisUpdate: created.toISOString(),
              nextUpdate: nextUpdate.toISOString(),
            },
          });
        }
      }
    }
    const signer = o.signer ?? this.rsa;
    const { bytes } = await writePublication(input, async (m) => ({
      algorithm: signer.alg,
      signature: signWith(signer, m),
    }));
    return bytes;
  }

  /** Writes bytes to a file in the fixture folder; returns its path. */
  write(name: string, data: Uint8Array | string): string {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(this.path(name), data);
    return this.path(name);
  }
}

/**
 * Runs a command without blocking the event loop (a server under test in this process must
 * keep answering while `openssl ocsp` or curl talks to it).
 */
export function runAsync(
  cmd: string,
  args: string[],
  options: { cwd?: string } = {},
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ status: code ?? -1, stdout, stderr }));
  });
}
