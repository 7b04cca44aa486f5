/**
 * After a re-key (CPS 5.6, R-9.1; RFC 4210 4.4), end to end through the online side: the
 * publication carries the link certificates, the online store verifies and imports it, the
 * Repository serves OldWithNew and NewWithOld over HTTP and lists them, and relying parties
 * holding EITHER root check status with OpenSSL:
 *   - `openssl verify -crl_check` of the old key's and the new key's subordinates from the old
 *     root and from the new root, with the CRL the current key signs (crl/NAME.crl; from the
 *     old root for the old key's sub only with -extended_crl, RFC 5280 6.3.3), and with the
 *     retired key's own CRL (crl/OLDKEY.crl, `--retired-key`) from the old root;
 *   - `openssl ocsp -issuer OLDROOT -cert OLDSUB -CAfile OLDROOT`: the response is signed by
 *     the retired key (`--retired-key`, status only), good and then revoked;
 *   - `openssl ocsp -issuer NEWROOT -cert NEWSUB -CAfile NEWROOT`.
 * Finally destroying the CA's key destroys its retired key too, under the same quorum.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { getCa } from '../src/installation/cas.ts';
import type { Installation } from '../src/installation/installation.ts';
import { issueCertificate } from '../src/issuance/issuance.ts';
import { destroyKeyCeremony } from '../src/custody/key-destruction.ts';
import { openKeySession } from '../src/operation/key-session.ts';
import { publish } from '../src/status/publication.ts';
import { rekeyCa, type RekeyResult } from '../src/lifecycle/rekey.ts';
import { revokeCertificate } from '../src/status/revocation.ts';
import { issueCrl, presignOcsp } from '../src/status/ceremonies.ts';
import { startServer, type RunningServer } from '../src/server/app.ts';
import { openOnlineStore } from '../src/server/online-store.ts';
import {
  allPassphrases,
  installationWithPeople,
  openssl,
  passphraseMap,
  rejectsWith,
  rootca,
  run,
  runShippedCeremony,
  setUpDelegatedKeys,
  storyTests,
  tempDir,
} from './helpers.ts';
import { passphraseEnv } from './lifecycle-end-fixtures.ts';
import { runAsync } from './online-fixtures.ts';
import { TLS_SUBCA } from './subca-purpose.ts';

const CA = 'ecc-rootca1';

describe('CPS 5.6 after a re-key: publication, Repository, CRL and OCSP for both roots, key destruction', () => {
  const dir = tempDir('rootca-rekey-pub-');
  const people = { operator: 'alice', witness: 'olivia', passphrases: passphraseMap(allPassphrases()) };
  const f = (name: string) => join(dir, name);
  let inst: Installation;
  let server: RunningServer;
  let rekeyed: RekeyResult;
  const subs: Record<'old' | 'new', { serial: string; pem: string }> = {} as never;

  const sub = async (name: 'old' | 'new') => {
    openssl([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      f(`sub-${name}.key`),
      '-out',
      f(`sub-${name}.csr`),
      '-subj',
      `/C=JP/O=Example/CN=sub of the ${name} key`,
    ]);
    const r = await issueCertificate(inst, {
      ...people,
      caName: CA,
      profile: 'subca',
      ...TLS_SUBCA,
      csr: readFileSync(f(`sub-${name}.csr`)),
      pathLenConstraint: 0,
    });
    writeFileSync(f(`sub-${name}.pem`), r.certificatePem);
    subs[name] = { serial: r.serialHex, pem: f(`sub-${name}.pem`) };
  };
  const ocsp = async (issuer: string, cert: string, anchor: string) => {
    const r = await runAsync('openssl', [
      'ocsp',
      '-issuer',
      issuer,
      '-cert',
      cert,
      '-url',
      `${server.httpUrl}/ocsp`,
      '-CAfile',
      anchor,
      '-no_nonce',
      '-resp_text',
    ]);
    return { status: r.status, out: r.stdout + r.stderr };
  };
  const download = async (path: string, to: string) => {
    const r = await runAsync('curl', ['-sS', '-f', '-o', to, '-w', '%{content_type}', `${server.httpUrl}/${path}`]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };

  /** Life after one re-key: each test builds on the ones before it (storyTests runs them first when alone). */
  const story = storyTests();

  before(async () => {
    inst = installationWithPeople({ dir, more: true });
    inst.config.issuance.requireApplicationFor = [];
    inst.config.repository.baseUrl = 'http://127.0.0.1:1';
    await runShippedCeremony(inst, CA, dir);
    await setUpDelegatedKeys(inst, CA);
    await sub('old');
    rekeyed = await rekeyCa(inst, {
      ...people,
      caName: CA,
      holders: ['bob', 'carol'],
      threshold: 2,
      outDir: f('rekey'),
    });
    writeFileSync(f('new-root.pem'), rekeyed.certificatePem);
    await setUpDelegatedKeys(inst, CA);
    await sub('new');
    await issueCrl(inst, { ...people, caName: CA });
    await issueCrl(inst, { ...people, caName: CA, retiredKey: true });
  });
  after(async () => {
    await server?.close();
    inst?.close();
  });

  story(
    "ocsp presign signs with the current key only what it issued; --retired-key signs the old key's certificates with the old key",
    async () => {
      const current = await presignOcsp(inst, { ...people, caName: CA });
      // Beside the subordinates, the root's responder and publication certificates (issue 15), each key's own.
      assert.equal(current.responses, current.certificates * 2);
      assert.ok(current.otherKey.includes(subs.old.serial) && !current.otherKey.includes(subs.new.serial));
      const ev = inst.audit
        .list()
        .filter((e) => e.action === 'ocsp.presigned')
        .at(-1)!;
      assert.ok((ev.details as { issuedByAnotherKey: string[] }).issuedByAnotherKey.includes(subs.old.serial));
      assert.equal((ev.details as { issuerKeyId: string }).issuerKeyId, rekeyed.keyId);

      // The command line: the retired key's custodians through the usual passphrase sources.
      const cli = rootca(
        [
          '--home',
          inst.home,
          'ocsp',
          'presign',
          '--ca',
          CA,
          '--retired-key',
          '--operator',
          'alice',
          '--witness',
          'olivia',
        ],
        { env: passphraseEnv() },
      );
      assert.equal(cli.status, 0, cli.stderr);
      assert.match(
        cli.stdout,
        /\d+ OCSP responses pre-signed for \d+ certificates of ecc-rootca1\n {2}\d+ certificates of ecc-rootca1 were issued by another of its keys/,
      );
      const ev2 = inst.audit
        .list()
        .filter((e) => e.action === 'ocsp.presigned')
        .at(-1)!;
      assert.equal((ev2.details as { issuerKeyId: string }).issuerKeyId, rekeyed.previousKeyId);
      const activation = inst.audit
        .list()
        .filter((e) => e.action === 'key.activate' && e.outcome === 'success')
        .at(-1)!;
      // Signed by the responder the retired key certified before the re-key, never by the retired key (BR 6.1.7).
      assert.equal((activation.details as { keyId: string }).keyId, (ev2.details as { keyId: string }).keyId);
      assert.notEqual((activation.details as { keyId: string }).keyId, rekeyed.previousKeyId);
    },
  );

  story(
    'the retired key is for status only: refused for anything else, for an unknown key id, and outside --retired-key',
    async () => {
      await rejectsWith('RETIRED_KEY_STATUS_ONLY', () =>
        openKeySession(inst, {
          operation: 'certificate.issue',
          caName: CA,
          retiredKeyId: rekeyed.previousKeyId,
          operator: 'alice',
          witness: 'olivia',
          passphrases: people.passphrases,
          describe: {},
        }),
      );
      await rejectsWith('RETIRED_KEY_UNKNOWN', () =>
        presignOcsp(inst, { ...people, caName: CA, retiredKey: 'no-such-key' }),
      );
      const refusals = inst.audit
        .list()
        .filter((e) => e.outcome === 'refused')
        .slice(-2)
        .map((e) => (e.details as { code: string }).code);
      assert.deepEqual(refusals, ['RETIRED_KEY_STATUS_ONLY', 'RETIRED_KEY_UNKNOWN']);
    },
  );

  story(
    'the publication carries both link certificates; the online side imports it and serves them at stable URLs',
    async () => {
      const p = await publish(inst, { ...people, signerCa: CA, out: f('pub-1.json') });
      assert.deepEqual(p.warnings, []);
      const store = openOnlineStore(`sqlite:${f('online.db')}`);
      // The Repository is told about the new root (NewWithNew) as a trust anchor, beside the old one.
      store.importPublication(readFileSync(f('pub-1.json')), [readFileSync(f(`${CA}.der`)), rekeyed.certificateDer]);
      server = await startServer({ store, port: 0, pollMs: 100_000 });
      for (const l of rekeyed.links) {
        const path = `certs/${CA}-${l.kind.replaceAll('-', '')}.crt`;
        assert.equal(await download(path, f(`dl-${l.kind}.crt`)), 'application/pkix-cert');
        assert.deepEqual(readFileSync(f(`dl-${l.kind}.crt`)), l.certificateDer);
        writeFileSync(f(`dl-${l.kind}.pem`), openssl(['x509', '-inform', 'DER', '-in', f(`dl-${l.kind}.crt`)]));
        // The PEM form at the same stable name, as for the CA certificates.
        await download(path.replace(/\.crt$/, '.pem'), f(`dl-${l.kind}-served.pem`));
        const fingerprint = (args: string[]) => openssl(['x509', '-noout', '-fingerprint', '-sha256', ...args]);
        assert.equal(
          fingerprint(['-in', f(`dl-${l.kind}-served.pem`)]),
          fingerprint(['-inform', 'DER', '-in', f(`dl-${l.kind}.crt`)]),
        );
      }
      const page = await runAsync('curl', ['-sS', '-f', `${server.httpUrl}/`]);
      assert.match(page.stdout, /Key changeover link certificates/);
      assert.match(
        page.stdout,
        new RegExp(`href="/certs/${CA}-oldwithnew.crt"[\\s\\S]*href="/certs/${CA}-newwithold.crt"`),
      );
      assert.match(page.stdout, new RegExp(`${CA} \\(earlier key\\)[\\s\\S]*href="/crl/${rekeyed.previousKeyId}.crl"`));
    },
  );

  story(
    'openssl verify -crl_check: both subordinates from the old root and from the new root, with the links and CRLs served',
    async () => {
      assert.equal(await download(`crl/${CA}.crl`, f('dl.crl')), 'application/pkix-crl');
      assert.equal(await download(`crl/${rekeyed.previousKeyId}.crl`, f('dl-old-key.crl')), 'application/pkix-crl');
      // Its Last-Modified is the earlier key's CRL's own thisUpdate, not the current CRL's.
      const head = await runAsync('curl', [
        '-sS',
        '-f',
        '-D',
        '-',
        '-o',
        '/dev/null',
        `${server.httpUrl}/crl/${rekeyed.previousKeyId}.crl`,
      ]);
      const thisUpdate = openssl(['crl', '-inform', 'DER', '-in', f('dl-old-key.crl'), '-noout', '-lastupdate'])
        .trim()
        .replace(/^lastUpdate=/, '');
      assert.equal(new Date(/last-modified: (.*)\r/i.exec(head.stdout)![1]!).getTime(), new Date(thisUpdate).getTime());
      const oldRoot = f(`${CA}.pem`);
      const newRoot = f('new-root.pem');
      // Each root's holder needs the link its root verifies: NewWithOld for the old root, OldWithNew for the new one.
      const link = (root: string) => [
        '-untrusted',
        f(root === oldRoot ? 'dl-new-with-old.pem' : 'dl-old-with-new.pem'),
      ];
      const verify = (root: string, crl: string, cert: string, extra: string[] = []) =>
        run('openssl', [
          'verify',
          '-x509_strict',
          ...extra,
          '-crl_check',
          '-CRLfile',
          crl,
          '-CAfile',
          root,
          ...link(root),
          cert,
        ]);
      const ok = (r: ReturnType<typeof run>, what: string) =>
        assert.equal(r.status, 0, `${what}: ${r.stderr}${r.stdout}`);
      // The current key's CRL: everything from the new root, the new key's sub from the old root.
      ok(verify(newRoot, f('dl.crl'), subs.old.pem), 'new root, old sub');
      ok(verify(newRoot, f('dl.crl'), subs.new.pem), 'new root, new sub');
      ok(verify(oldRoot, f('dl.crl'), subs.new.pem), 'old root, new sub');
      // The old key's sub from the old root: the new key's CRL needs CRL-issuer path building
      // (RFC 5280 6.3.3, OpenSSL -extended_crl); the retired key's own CRL verifies plainly.
      const plain = verify(oldRoot, f('dl.crl'), subs.old.pem);
      assert.notEqual(plain.status, 0);
      assert.match(plain.stdout + plain.stderr, /unable to get certificate CRL/);
      ok(verify(oldRoot, f('dl.crl'), subs.old.pem, ['-extended_crl']), 'old root, old sub, -extended_crl');
      ok(verify(oldRoot, f('dl-old-key.crl'), subs.old.pem), 'old root, old sub, retired-key CRL');
    },
  );

  story(
    'openssl ocsp: OLDROOT asks about the old sub (answered by the retired key), NEWROOT about the new sub',
    async () => {
      const old = await ocsp(f(`${CA}.pem`), subs.old.pem, f(`${CA}.pem`));
      assert.equal(old.status, 0, old.out);
      assert.match(old.out, /Response verify OK/);
      assert.match(old.out, /sub-old\.pem: good/);
      const fresh = await ocsp(f('new-root.pem'), subs.new.pem, f('new-root.pem'));
      assert.match(fresh.out, /Response verify OK/);
      assert.match(fresh.out, /sub-new\.pem: good/);
      // Holders of the new root ask about the old sub through OldWithNew (its issuer's key is the old one).
      const via = await ocsp(f('dl-old-with-new.pem'), subs.old.pem, f('new-root.pem'));
      assert.match(via.out, /sub-old\.pem: good/);
      assert.match(via.out, /Response verify OK/);
    },
  );

  story(
    'revoking the old sub: the publication names --retired-key until the retired key re-signs; then openssl ocsp from OLDROOT says revoked',
    async () => {
      await revokeCertificate(inst, {
        ...people,
        caName: CA,
        serial: subs.old.serial,
        reason: 'cessationOfOperation',
        approvedBy: 'rita',
      });
      const before = await publish(inst, { ...people, signerCa: CA, out: f('pub-2.json') });
      assert.ok(
        before.warnings.some((w) => w.includes(subs.old.serial) && /says good but the certificate is revoked/.test(w)),
        before.warnings.join('\n'),
      );
      assert.ok(
        before.warnings.some(
          (w) => w.includes(subs.old.serial) && w.includes(`--retired-key ${rekeyed.previousKeyId}`),
        ),
        before.warnings.join('\n'),
      );
      await presignOcsp(inst, { ...people, caName: CA, retiredKey: true });
      await issueCrl(inst, { ...people, caName: CA, retiredKey: rekeyed.previousKeyId });
      const p = await publish(inst, { ...people, signerCa: CA, out: f('pub-3.json') });
      assert.deepEqual(p.warnings, []);
      server.store.importPublication(readFileSync(f('pub-3.json')));
      assert.equal(await server.pollNow(), true);
      const r = await ocsp(f(`${CA}.pem`), subs.old.pem, f(`${CA}.pem`));
      assert.match(r.out, /Response verify OK/);
      assert.match(r.out, /sub-old\.pem: revoked[\s\S]*Reason: cessationOfOperation/);
      // And the CRLs: the retired key's from the old root, the current key's from the new root.
      await download(`crl/${rekeyed.previousKeyId}.crl`, f('dl-old-key-2.crl'));
      await download(`crl/${CA}.crl`, f('dl-2.crl'));
      for (const [crl, root, untrusted] of [
        ['dl-old-key-2.crl', `${CA}.pem`, 'dl-new-with-old.pem'],
        ['dl-2.crl', 'new-root.pem', 'dl-old-with-new.pem'],
      ]) {
        const v = run('openssl', [
          'verify',
          '-crl_check',
          '-CRLfile',
          f(crl!),
          '-CAfile',
          f(root!),
          '-untrusted',
          f(untrusted!),
          subs.old.pem,
        ]);
        assert.notEqual(v.status, 0);
        assert.match(v.stdout + v.stderr, /certificate revoked/);
      }
    },
  );

  story(
    "a delegated responder (certified by the new key) signs live only for CertIDs naming the new key; the old key's are pre-signed or unauthorized",
    async () => {
      openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f('responder.key')]);
      openssl([
        'req',
        '-new',
        '-key',
        f('responder.key'),
        '-subj',
        `/C=JP/O=Example/CN=${CA} OCSP Responder`,
        '-out',
        f('responder.csr'),
      ]);
      const resp = await issueCertificate(inst, {
        ...people,
        caName: CA,
        profile: 'ocsp',
        csr: readFileSync(f('responder.csr')),
        validityDays: 30,
      });
      const live = await startServer({
        store: server.store,
        port: 0,
        pollMs: 100_000,
        responders: [
          {
            certificate: Buffer.from(resp.certificatePem),
            key: readFileSync(f('responder.key')),
            source: f('responder.key'),
          },
        ],
      });
      try {
        const ask = (issuer: string, target: string[], anchor: string) =>
          runAsync('openssl', [
            'ocsp',
            '-issuer',
            issuer,
            ...target,
            '-url',
            `${live.httpUrl}/ocsp`,
            '-CAfile',
            anchor,
            '-resp_text',
          ]);
        // The new key's sub, with a nonce: signed live by the delegate, nonce echoed.
        const fresh = await ask(f('new-root.pem'), ['-cert', subs.new.pem], f('new-root.pem'));
        assert.match(fresh.stdout + fresh.stderr, /Response verify OK/);
        assert.match(fresh.stdout, /OCSP Nonce/);
        assert.match(fresh.stdout + fresh.stderr, /sub-new\.pem: good/);
        // The old key's sub, with a nonce: the retired key's pre-signed answer (no nonce), which verifies.
        const old = await ask(f(`${CA}.pem`), ['-cert', subs.old.pem], f(`${CA}.pem`));
        assert.match(old.stdout + old.stderr, /Response verify OK/);
        assert.match(old.stdout + old.stderr, /sub-old\.pem: revoked/);
        // A serial the old key never issued: unauthorized, not an answer signed by a responder the old key never certified.
        const unissued = await ask(f(`${CA}.pem`), ['-serial', '0x0badbeef'], f(`${CA}.pem`));
        assert.match(unissued.stdout + unissued.stderr, /Responder Error: unauthorized/);
      } finally {
        await live.close();
      }
    },
  );

  story(
    'destroying the CA key destroys the retired key too, under the same quorum; neither signs afterwards',
    async () => {
      const r = await destroyKeyCeremony(inst, { ...people, caName: CA, reason: 'test: end of the CA' });
      assert.equal(r.keyId, getCa(inst, CA).keyId);
      assert.deepEqual(r.retiredKeys, [rekeyed.previousKeyId]);
      const status = (k: string) =>
        inst.db.prepare('SELECT status, wrapped_private_key FROM ca_keys WHERE key_id = ?').get(k) as {
          status: string;
          wrapped_private_key: Buffer | null;
        };
      for (const k of [rekeyed.keyId, rekeyed.previousKeyId])
        assert.deepEqual({ ...status(k) }, { status: 'destroyed', wrapped_private_key: null });
      const events = inst.audit
        .list()
        .filter((e) => e.action === 'key.destroy' && e.outcome === 'success')
        .slice(-2)
        .map((e) => e.details as { keyId: string; retired?: boolean });
      assert.deepEqual(
        events.map((e) => [e.keyId, e.retired ?? false]),
        [
          [rekeyed.previousKeyId, true],
          [rekeyed.keyId, false],
        ],
      );
      await rejectsWith('KEY_DESTROYED', () => presignOcsp(inst, { ...people, caName: CA, retiredKey: true }));
      await rejectsWith('KEY_DESTROYED', () => issueCrl(inst, { ...people, caName: CA }));
    },
  );
});
