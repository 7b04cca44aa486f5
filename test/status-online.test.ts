/**
 * R-2 end to end: the offline side issues, revokes and publishes; the online side imports the
 * publication and answers relying parties — `openssl ocsp` over real HTTP says good, then
 * revoked with reason and time after the next publication, for all four roots.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Installation } from '../src/installation/installation.ts';
import { issueCertificate } from '../src/issuance/issuance.ts';
import { publish } from '../src/status/publication.ts';
import { revokeCertificate } from '../src/status/revocation.ts';
import { issueCrl, presignOcsp } from '../src/status/ceremonies.ts';
import { CaError } from '../src/errors.ts';
import { startServer, type RunningServer } from '../src/server/app.ts';
import { openOnlineStore } from '../src/server/online-store.ts';
import {
  allPassphrases,
  installationWithPeople,
  openssl,
  passphraseMap,
  runShippedCeremony,
  setUpDelegatedKeys,
  tempDir,
} from './helpers.ts';
import { runAsync } from './online-fixtures.ts';
import { TLS_SUBCA } from './subca-purpose.ts';

const ROOTS = ['rootca1', 'rootca2', 'rootca3', 'ecc-rootca1'];

describe('R-2 offline publication -> online OCSP and Repository, for all four roots', () => {
  const dir = tempDir();
  const people = { operator: 'alice', witness: 'olivia', passphrases: passphraseMap(allPassphrases()) };
  let inst: Installation;
  let server: RunningServer;
  const subs = new Map<string, { serial: string; pem: string }>();
  let responder: { pem: string; key: string };
  /** Async: the server under test runs in this process and must keep answering. */
  const opensslAsync = async (args: string[]) => {
    const r = await runAsync('openssl', args);
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} exited ${r.status}:\n${r.stderr}${r.stdout}`);
    return r.stdout + r.stderr;
  };
  const ocsp = (root: string, extra: string[] = []) =>
    opensslAsync([
      'ocsp',
      '-issuer',
      join(dir, `${root}.pem`),
      '-cert',
      subs.get(root)!.pem,
      '-url',
      `${server.httpUrl}/ocsp`,
      '-CAfile',
      join(dir, `${root}.pem`),
      '-resp_text',
      ...extra,
    ]);

  before(async () => {
    inst = installationWithPeople({ dir, more: true });
    inst.config.issuance.requireApplicationFor = [];
    inst.config.repository.baseUrl = 'http://127.0.0.1:1';
    for (const root of ROOTS) {
      await runShippedCeremony(inst, root, dir);
      await setUpDelegatedKeys(inst, root);
      openssl([
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(dir, `${root}-sub.key`),
        '-out',
        join(dir, `${root}-sub.csr`),
        '-subj',
        `/C=JP/O=Example/CN=${root} Sub CA`,
      ]);
      const r = await issueCertificate(inst, {
        ...people,
        caName: root,
        profile: 'subca',
        ...TLS_SUBCA,
        csr: readFileSync(join(dir, `${root}-sub.csr`)),
        signatureAlgorithm: root === 'rootca1' ? 'sha256WithRSAEncryption' : undefined,
      });
      writeFileSync(join(dir, `${root}-sub.pem`), r.certificatePem);
      subs.set(root, { serial: r.serialHex, pem: join(dir, `${root}-sub.pem`) });
      await issueCrl(inst, { ...people, caName: root });
    }
    // A delegated responder for RootCA2 (P-256 key held by the online side, encrypted at rest).
    openssl([
      'genpkey',
      '-algorithm',
      'EC',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-aes256',
      '-pass',
      'pass:responder-key-pass',
      '-out',
      join(dir, 'responder.key'),
    ]);
    openssl([
      'req',
      '-new',
      '-key',
      join(dir, 'responder.key'),
      '-passin',
      'pass:responder-key-pass',
      '-subj',
      '/C=JP/O=SECOM Trust Systems CO.,LTD./CN=rootca2 OCSP Responder',
      '-out',
      join(dir, 'responder.csr'),
    ]);
    const resp = await issueCertificate(inst, {
      ...people,
      caName: 'rootca2',
      profile: 'ocsp',
      csr: readFileSync(join(dir, 'responder.csr')),
      validityDays: 30,
    });
    writeFileSync(join(dir, 'responder.pem'), resp.certificatePem);
    responder = { pem: join(dir, 'responder.pem'), key: join(dir, 'responder.key') };
    for (const root of ROOTS) await presignOcsp(inst, { ...people, caName: root });
    await publish(inst, { ...people, signerCa: 'ecc-rootca1', out: join(dir, 'pub-1.json') });
    const store = openOnlineStore(`sqlite:${join(dir, 'online.db')}`);
    store.importPublication(
      readFileSync(join(dir, 'pub-1.json')),
      ROOTS.map((r) => readFileSync(join(dir, `${r}.der`))),
    );
    server = await startServer({
      store,
      port: 0,
      pollMs: 100_000,
      responders: [
        {
          certificate: readFileSync(responder.pem),
          key: readFileSync(responder.key),
          passphrase: 'responder-key-pass',
          source: responder.key,
        },
      ],
    });
  });
  after(async () => {
    await server?.close();
    inst?.close();
  });

  for (const root of ROOTS) {
    it(`${root}: openssl ocsp over HTTP says good for the issued subordinate CA`, async () => {
      const out = await ocsp(root, ['-no_nonce']);
      assert.match(out, /Response verify OK/);
      assert.match(out, new RegExp(`${subs.get(root)!.pem.replaceAll('/', '\\/')}: good`));
    });
  }

  it('serves each CRL at the URL the certificates name, and openssl verifies it', async () => {
    for (const root of ROOTS) {
      const f = join(dir, `${root}.dl.crl`);
      const r = await runAsync('curl', [
        '-sS',
        '-f',
        '-o',
        f,
        '-w',
        '%{content_type}',
        `${server.httpUrl}/crl/${root}.crl`,
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'application/pkix-crl');
      assert.match(
        openssl(['crl', '-inform', 'DER', '-in', f, '-CAfile', join(dir, `${root}.pem`), '-noout', '-verify']),
        /verify OK/,
      );
    }
  });

  it('answers with a nonce through the delegated responder (RFC 8954), and "unknown" for a serial RootCA2 never issued', async () => {
    const out = await ocsp('rootca2');
    assert.match(out, /Response verify OK/);
    assert.match(out, /: good/);
    assert.doesNotMatch(
      out,
      /WARNING: no nonce in response/,
      'the nonce is echoed: the delegated responder signed live',
    );
    const unknown = await opensslAsync([
      'ocsp',
      '-issuer',
      join(dir, 'rootca2.pem'),
      '-serial',
      '0x7f11223344556677',
      '-url',
      `${server.httpUrl}/ocsp`,
      '-CAfile',
      join(dir, 'rootca2.pem'),
      '-resp_text',
    ]);
    assert.match(unknown, /0x7F11223344556677: unknown/i);
    const r = await runAsync('openssl', [
      'ocsp',
      '-issuer',
      join(dir, 'rootca3.pem'),
      '-serial',
      '0x7f11223344556677',
      '-url',
      `${server.httpUrl}/ocsp`,
      '-CAfile',
      join(dir, 'rootca3.pem'),
      '-no_nonce',
    ]);
    assert.match(r.stdout + r.stderr, /unauthorized/i, 'pre-signed only: never good, RFC 5019 unauthorized');
  });

  it('after revocation and the next publication, all four say revoked with reason and time; a tampered file changes nothing', async () => {
    for (const root of ROOTS) {
      await revokeCertificate(inst, {
        ...people,
        caName: root,
        serial: subs.get(root)!.serial,
        reason: root === 'rootca3' ? 'keyCompromise' : 'cessationOfOperation',
        approvedBy: 'rita',
      });
    }
    await publish(inst, { ...people, signerCa: 'rootca2', out: join(dir, 'pub-2.json') });
    const good = readFileSync(join(dir, 'pub-2.json'));
    const tampered = Buffer.from(good);
    tampered[Math.floor(tampered.length / 2)] ^= 0x01;
    assert.throws(
      () => server.store.importPublication(tampered),
      (e: unknown) => e instanceof CaError && /PUBLICATION_INVALID/.test(e.code),
    );
    server.pollNow();
    assert.match(await ocsp('rootca2', ['-no_nonce']), /: good/, 'the refused file changed nothing');
    server.store.importPublication(good);
    assert.equal(server.pollNow(), true);
    for (const root of ROOTS) {
      const out = await ocsp(root, ['-no_nonce']);
      assert.match(out, /Response verify OK/);
      assert.match(out, /: revoked/);
      assert.match(out, /Revocation Time: /);
      assert.match(out, new RegExp(`Reason: ${root === 'rootca3' ? 'keyCompromise' : 'cessationOfOperation'}`));
    }
    assert.throws(
      () => server.store.importPublication(readFileSync(join(dir, 'pub-1.json'))),
      (e: unknown) => e instanceof CaError && e.code === 'PUBLICATION_STALE',
    );
    // CPS 5.4.1: the online side records its start, its imports and the refused ones.
    const kinds = server.store.serverEvents().map((e) => e.kind);
    assert.deepEqual(kinds, ['import', 'start', 'import-refused', 'import', 'import-refused']);
    assert.match(JSON.stringify(server.store.serverEvents().at(-1)!.detail), /PUBLICATION_STALE/);
  });
});
