/**
 * Fixtures for the online side: two roots made with the OpenSSL CLI (RSA 2048 / sha256, and
 * ECDSA P-384 / sha384), subordinate certificates they issued (`openssl x509 -req`), a
 * delegated OCSP responder with an encrypted PKCS#8 key, and publication files assembled with
 * src/publish/write.ts: CRLs signed by the roots' keys, pre-signed OCSP responses by each
 * root's delegated responder and the manifest by its publication key (issue 15), through
 * node:crypto (as the offline side's one-shot signer would). `rootSigned` makes the format-1
 * file an installation wrote before issue 15 (manifest and responses signed by the root).
 */
import { spawn } from 'node:child_process';
import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
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
import { PATHS, ROOT_SIGNED_PUBLICATION_FORMAT, type Manifest, type PublicationFile } from '../src/publish/format.ts';
import { canonicalJson } from '../src/util/canonical-json.ts';
import { certificateInfo, type CertificateInfo } from '../src/pki/certificate-info.ts';
import { openssl, run, tempDir } from './helpers.ts';
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
  /** A format-1 publication as before issue 15: manifest and OCSP responses signed by the root key. */
  rootSigned?: boolean;
}

/** A key a root delegated signing to (issue 15): its certificate and private key. */
export interface DelegatedTestKey {
  der: Buffer;
  info: CertificateInfo;
  key: KeyObject;
  serialHex: string;
}

const PUBLICATION_EXT = `basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = 1.3.6.1.5.5.7.3.36
authorityKeyIdentifier = keyid
subjectKeyIdentifier = hash
`;

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
  /** Per root name: the keys it delegated pre-signing (`ocsp`) and the manifest (`publication`) to. */
  readonly delegated = new Map<string, { ocsp: DelegatedTestKey; publication: DelegatedTestKey }>();

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
    this.setUpDelegatedKeys();
  }

  /**
   * The one place the fixture follows issue 15: each root certifies a pre-signing responder key
   * and a publication key (openssl x509 -req), which sign what the root key no longer signs.
   */
  private setUpDelegatedKeys(): void {
    writeFileSync(this.path('publication.ext'), PUBLICATION_EXT);
    for (const [i, root] of [this.rsa, this.ec, this.stranger].entries()) {
      const make = (what: 'ocsp' | 'publication', serialHex: string): DelegatedTestKey => {
        const name = `${root.name}-${what}`;
        const ext = what === 'ocsp' ? 'responder.ext' : 'publication.ext';
        openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`], {
          cwd: this.dir,
        });
        openssl(['req', '-new', '-key', `${name}.key`, '-subj', `/O=Example Trust/CN=${name}`, '-out', `${name}.csr`], {
          cwd: this.dir,
        });
        const digest = `-${SIGNATURE_ALGORITHMS[root.alg].hash}`;
        const args = ['x509', '-req', '-in', `${name}.csr`, '-CA', root.pem, '-CAkey', `${root.name}.key`];
        // Valid from ten days ago (faketime), so responses dated a minute back, and the stale ones
        // some tests date days back, fall inside it.
        const signed = run(
          'faketime',
          ['-f', '-10d', 'openssl', ...args, '-set_serial', `0x${serialHex}`, '-days', '365', digest, '-extfile', ext],
          { cwd: this.dir },
        );
        if (signed.status !== 0) throw new Error(`openssl x509 -req for ${name}: ${signed.stderr}`);
        writeFileSync(this.path(`${name}.pem`), signed.stdout);
        const der = pemToDer(readFileSync(this.path(`${name}.pem`), 'utf8'), 'CERTIFICATE');
        const key = createPrivateKey(readFileSync(this.path(`${name}.key`)));
        return { der, info: certificateInfo(der), key, serialHex };
      };
      this.delegated.set(root.name, {
        ocsp: make('ocsp', `6d0c5900000${i}`),
        publication: make('publication', `7b0b1100000${i}`),
      });
    }
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
      signerSerialHex: '',
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
          const responder = this.delegated.get(root.name)!.ocsp;
          const { der: tbsResp } = createTbsResponseData({
            responderKeyHash: createHash('sha1')
              .update(o.rootSigned ? root.info.publicKey : responder.info.publicKey)
              .digest(),
            producedAt: created,
            responses: [{ certId, status, thisUpdate: created, nextUpdate }],
          });
          input.ocspResponses.push({
            ca: root.name,
            der: o.rootSigned
              ? assembleOcspResponse(tbsResp, root.alg, signWith(root, tbsResp))
              : assembleOcspResponse(tbsResp, 'ecdsa-with-SHA256', sign('sha256', tbsResp, responder.key), [
                  responder.der,
                ]),
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
    const publicationKey = this.delegated.get(signer.name)!.publication;
    input.signerSerialHex = publicationKey.serialHex;
    const signerRoot = input.cas.find((c) => c.name === signer.name);
    if (signerRoot) this.addIssued(input, signer, publicationKey, 'publication');
    const { bytes } = await writePublication(input, async (m) => ({
      algorithm: 'ecdsa-with-SHA256',
      signature: sign('sha256', m, publicationKey.key),
    }));
    return o.rootSigned ? this.rootSignedCopy(bytes, signer) : bytes;
  }

  /** A delegated key's certificate among the issued certificates of its root. */
  private addIssued(input: PublicationInput, root: TestRoot, k: DelegatedTestKey, profile: string): void {
    input.certificates.push({
      ca: root.name,
      der: k.der,
      meta: {
        serialHex: k.serialHex,
        subject: k.info.subject,
        profile,
        notBefore: k.info.notBefore.toISOString(),
        notAfter: k.info.notAfter.toISOString(),
        status: 'good',
      },
    });
  }

  /** The same publication as format 1 (before issue 15): the manifest signed by the root key itself. */
  private rootSignedCopy(bytes: Buffer, root: TestRoot): Buffer {
    const file = JSON.parse(bytes.toString('utf8')) as PublicationFile;
    const manifest = JSON.parse(file.manifest) as Manifest;
    (manifest as { format: string }).format = ROOT_SIGNED_PUBLICATION_FORMAT;
    manifest.signer = { ca: root.name, certificatePath: PATHS.caCertificate(root.name) };
    file.manifest = canonicalJson(manifest);
    file.signatureAlgorithm = root.alg;
    file.signature = sign(SIGNATURE_ALGORITHMS[root.alg].hash, Buffer.from(file.manifest, 'utf8'), root.key).toString(
      'base64',
    );
    return Buffer.from(`${JSON.stringify(file)}\n`, 'utf8');
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
