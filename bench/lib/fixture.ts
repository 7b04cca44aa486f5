/**
 * The OCSP benches' fixture, made by the offline side in a temp folder (ceremonies, sub CAs, a
 * P-256 delegated responder, presign, publish, `rootca online import`), and the relying
 * party's check of an answer (`openssl ocsp -respin`).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Installation } from '../../src/installation/installation.ts';
import { issueCertificate } from '../../src/issuance/issuance.ts';
import { issueCrl, presignOcsp } from '../../src/status/ceremonies.ts';
import { publish } from '../../src/status/publication.ts';
import {
  allPassphrases,
  installationWithPeople,
  openssl,
  passphraseMap,
  REPO,
  runShippedCeremony,
  setUpDelegatedKeys,
} from '../../test/helpers.ts';

/** What the bench serves and asks, made fresh by the offline side. */
export interface Fixture {
  dir: string;
  root: string;
  root2: string;
  sub: string;
  sub2: string;
  responderPem: string;
  responderKey: string;
  store: string;
  reqDer: string;
  reqNonceDer: string;
  getPath: string;
  /** A self-signed P-256 TLS certificate for 127.0.0.1, for our HTTPS listener and nginx's. */
  tlsCert: string;
  tlsKey: string;
  /** The nonce's length in req-nonce.der (its last bytes). */
  nonceBytes: number;
}

const rootcaCli = (args: string[]) =>
  spawnSync(process.execPath, [join(REPO, 'bin', 'rootca.mjs'), ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 120_000,
  });

/** The offline side's real work: ceremonies, sub CAs, a delegated responder, presign, publish, import. */
export async function setup(dir: string, notes: string[]): Promise<Fixture> {
  const inst: Installation = installationWithPeople({ dir, more: true });
  inst.config.issuance.requireApplicationFor = []; // the bench issues sub CAs directly, without the RA workflow
  const people = { operator: 'alice', witness: 'olivia', passphrases: passphraseMap(allPassphrases()) };
  const path = (f: string) => join(dir, f);

  for (const r of ['ecc-rootca1', 'rootca2']) await runShippedCeremony(inst, r, dir);
  const issueFromCsr = async (caName: string, profile: 'subca' | 'ocsp', name: string, keyArgs: string[]) => {
    openssl(['req', '-new', ...keyArgs, '-out', path(`${name}.csr`), '-subj', `/C=JP/O=Bench Trust/CN=${name}`]);
    // A sub-CA is issued for a purpose (Mozilla 5.3, BR 7.1.2.10.5): a TLS sub-CA with the reserved OV policy.
    const tls = profile === 'subca' ? { purpose: 'tls-server' as const, extraPolicyOids: ['2.23.140.1.2.2'] } : {};
    const r = await issueCertificate(inst, {
      ...people,
      caName,
      profile,
      csr: readFileSync(path(`${name}.csr`)),
      ...tls,
    });
    writeFileSync(path(`${name}.pem`), r.certificatePem);
    return path(`${name}.pem`);
  };
  const p256 = (name: string) => [
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    path(`${name}.key`),
  ];
  const sub = await issueFromCsr('ecc-rootca1', 'subca', 'ecc-sub', p256('ecc-sub'));
  const sub2 = await issueFromCsr('rootca2', 'subca', 'rsa-sub', p256('rsa-sub'));
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path('responder.key')]);
  const responderPem = await issueFromCsr('ecc-rootca1', 'ocsp', 'responder', ['-key', path('responder.key')]);
  for (const ca of ['ecc-rootca1', 'rootca2']) {
    // A root key signs only certificates and CRLs: its responder and publication keys sign the rest (issue 15).
    await setUpDelegatedKeys(inst, ca);
    await issueCrl(inst, { ...people, caName: ca });
    await presignOcsp(inst, { ...people, caName: ca });
  }
  const pub = await publish(inst, { ...people, signerCa: 'ecc-rootca1', out: path('publication-1.json') });
  if (pub.warnings.length) notes.push(`publication warnings: ${pub.warnings.join('; ')}`);
  inst.close();

  const store = `sqlite:${path('online.db')}`;
  const imp = rootcaCli([
    'online',
    'import',
    pub.path,
    '--store',
    store,
    '--trust',
    path('ecc-rootca1.pem'),
    '--trust',
    path('rootca2.pem'),
  ]);
  if (imp.status !== 0) throw new Error(`rootca online import failed (${imp.status}):\n${imp.stderr}${imp.stdout}`);

  const root = path('ecc-rootca1.pem');
  openssl(['ocsp', '-issuer', root, '-cert', sub, '-no_nonce', '-reqout', path('req.der')]);
  openssl(['ocsp', '-issuer', root, '-cert', sub, '-reqout', path('req-nonce.der')]);
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      path('tls.key'),
    ].concat([
      '-out',
      path('tls.pem'),
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-days',
      '2',
    ]),
  );
  const text = openssl(['ocsp', '-reqin', path('req-nonce.der'), '-req_text']);
  const nonceHex = /OCSP Nonce:\s*\n\s*([0-9A-F]+)/i.exec(text)?.[1] ?? '';
  // The extension value is an OCTET STRING in the OCTET STRING: 04 len nonce.
  const nonceBytes = Math.max(0, nonceHex.length / 2 - 2);
  const der = readFileSync(path('req-nonce.der'));
  if (nonceBytes < 8 || !der.subarray(der.length - nonceBytes).equals(Buffer.from(nonceHex.slice(4), 'hex')))
    throw new Error(`req-nonce.der: the nonce is not its last bytes (${nonceHex})`);
  const b64url = readFileSync(path('req.der')).toString('base64url');
  return {
    dir,
    root,
    root2: path('rootca2.pem'),
    sub,
    sub2,
    responderPem,
    responderKey: path('responder.key'),
    store,
    reqDer: path('req.der'),
    reqNonceDer: path('req-nonce.der'),
    getPath: `/ocsp/${b64url}`,
    tlsCert: path('tls.pem'),
    tlsKey: path('tls.key'),
    nonceBytes,
  };
}

/** `openssl ocsp -respin` as the relying party: the answer verifies against the root and says good. */
export function checkResponse(f: Fixture, body: Buffer, label: string, o: { nonceReq?: string } = {}): void {
  const file = join(f.dir, `check-${label.replace(/[^a-z0-9]+/gi, '-')}.der`);
  writeFileSync(file, body);
  const args = [
    'ocsp',
    '-respin',
    file,
    '-CAfile',
    f.root,
    ...(o.nonceReq ? ['-reqin', o.nonceReq] : ['-issuer', f.root, '-cert', f.sub, '-no_nonce']),
  ];
  const r = spawnSync('openssl', args, { encoding: 'utf8', timeout: 30_000 });
  const out = r.stdout + r.stderr;
  if (r.status !== 0 || !/Response verify OK/.test(out))
    throw new Error(`${label}: openssl ${args.join(' ')} does not accept the answer:\n${out}`);
  if (!o.nonceReq && !/: good/.test(out)) throw new Error(`${label}: the answer does not say good:\n${out}`);
  if (o.nonceReq && /nonce/i.test(out)) throw new Error(`${label}: nonce problem:\n${out}`);
}
