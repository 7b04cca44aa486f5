/**
 * Issue 15 items 1 and 2: a root key signs only certificates and CRLs. Its OCSP responder key
 * signs the pre-signed responses (openssl ocsp verifies them against the root alone) and its
 * publication key the manifest; the online side refuses what a root key signed directly;
 * a response may not outlive its responder; an installation without the keys moves over.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { issueDelegatedKey } from '../src/custody/delegated-keys.ts';
import type { Installation } from '../src/installation/installation.ts';
import { issueCertificate } from '../src/issuance/issuance.ts';
import { certificateInfo } from '../src/pki/certificate-info.ts';
import { parseOcspResponse } from '../src/pki/ocsp.ts';
import { verifyPublication } from '../src/publish/verify.ts';
import { SqliteOnlineStore } from '../src/server/online-store.ts';
import { presignOcsp } from '../src/status/ceremonies.ts';
import { publish } from '../src/status/publication.ts';
import {
  allPassphrases,
  installationWithPeople,
  openssl,
  passphraseMap,
  rejectsWith,
  run,
  runShippedCeremony,
  setUpDelegatedKeys,
  tempDir,
} from './helpers.ts';
import { OnlineFixture } from './online-fixtures.ts';
import { TLS_SUBCA } from './subca-purpose.ts';

const ROOT = 'ecc-rootca1';
const people = { operator: 'alice', witness: 'olivia', passphrases: passphraseMap(allPassphrases()) };

const count = (inst: Installation, table: string): number =>
  (inst.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

describe('issue 15: delegated responder and publication keys (offline side)', () => {
  const dir = tempDir();
  let inst: Installation;
  let subPem: string;

  before(async () => {
    inst = installationWithPeople({ dir });
    inst.config.issuance.requireApplicationFor = [];
    await runShippedCeremony(inst, ROOT, dir);
    openssl(
      ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'].concat([
        '-keyout',
        join(dir, 'sub.key'),
        '-subj',
        '/C=JP/O=Test/CN=Test Sub CA',
        '-out',
        join(dir, 'sub.csr'),
      ]),
    );
    const sub = await issueCertificate(inst, {
      ...people,
      caName: ROOT,
      profile: 'subca',
      ...TLS_SUBCA,
      csr: readFileSync(join(dir, 'sub.csr')),
    });
    subPem = join(dir, 'sub.pem');
    writeFileSync(subPem, sub.certificatePem);
  });

  it('an installation without the keys is refused before anyone authenticates, naming the command; nothing is stored', async () => {
    const publications = count(inst, 'publications');
    const responses = count(inst, 'ocsp_responses');
    await rejectsWith(
      'DELEGATED_KEY_MISSING',
      () => publish(inst, { ...people, signerCa: ROOT, out: join(dir, 'none.json') }),
      /rootca publication-key issue --ca ecc-rootca1/,
    );
    await rejectsWith(
      'DELEGATED_KEY_MISSING',
      () => presignOcsp(inst, { ...people, caName: ROOT }),
      /ocsp responder issue/,
    );
    assert.equal(count(inst, 'publications'), publications);
    assert.equal(count(inst, 'ocsp_responses'), responses);
  });

  it("refuses a delegated key's quorum above the root's or below 2 (CPS 6.4.1)", async () => {
    for (const threshold of [1, 3])
      await rejectsWith('DELEGATED_KEY_QUORUM', () =>
        issueDelegatedKey(inst, {
          ...people,
          caName: ROOT,
          purpose: 'ocsp',
          holders: ['alice', 'bob', 'carol'],
          threshold,
        }),
      );
  });

  it('a responder certificate that would be outlived is refused with both dates, and nothing is stored', async () => {
    // Thirty days of responder against 90-day responses.
    const [short] = await setUpDelegatedKeys(inst, ROOT, ['ocsp'], 30);
    const before = count(inst, 'ocsp_responses');
    await rejectsWith(
      'OCSP_OUTLIVES_SIGNER',
      () => presignOcsp(inst, { ...people, caName: ROOT }),
      new RegExp(
        `good until \\d{4}-.*after the responder certificate ${short!.serialHex} .* expires \\(${short!.notAfter.toISOString().slice(0, 16)}`,
      ),
    );
    assert.equal(count(inst, 'ocsp_responses'), before);
  });

  it('presign signs with the newest responder (rollover): byKey of it, its certificate in certs; openssl ocsp verifies against the root', async () => {
    const [responder] = await setUpDelegatedKeys(inst, ROOT, ['ocsp']);
    const r = await presignOcsp(inst, { ...people, caName: ROOT });
    assert.ok(r.responses >= 2);
    const rows = inst.db
      .prepare(
        'SELECT der, hash_algorithm FROM ocsp_responses WHERE ceremony_id = (SELECT max(ceremony_id) FROM ocsp_responses)',
      )
      .all() as { der: Buffer; hash_algorithm: string }[];
    const info = certificateInfo(responder!.certificateDer);
    const keyHash = createHash('sha1').update(info.publicKey).digest();
    const rootPem = join(dir, `${ROOT}.pem`);
    for (const row of rows) {
      const p = parseOcspResponse(row.der);
      assert.deepEqual(p.responderKeyHash, keyHash, 'responderID byKey of the responder key (not the root key)');
      assert.deepEqual(p.certs, [responder!.certificateDer], 'the responder certificate in certs (RFC 6960 4.2.1)');
    }
    const sub = inst.db
      .prepare(
        "SELECT o.der, o.hash_algorithm FROM ocsp_responses o JOIN certificates c ON c.id = o.certificate_id WHERE c.profile = 'subca' ORDER BY o.id DESC LIMIT 2",
      )
      .all() as { der: Buffer; hash_algorithm: string }[];
    for (const row of sub) {
      const f = join(dir, `sub-${row.hash_algorithm}.ocsp`);
      writeFileSync(f, row.der);
      const hash = row.hash_algorithm === 'sha256' ? ['-sha256'] : [];
      const out = openssl([
        'ocsp',
        '-respin',
        f,
        '-issuer',
        rootPem,
        ...hash,
        '-cert',
        subPem,
        '-CAfile',
        rootPem,
        '-no_nonce',
      ]);
      assert.match(out, /Response verify OK/);
      assert.match(out, /: good/);
    }
    // GnuTLS's view: ocsptool verifies the response with the root as its trust anchor.
    const f = join(dir, `sub-${sub[0]!.hash_algorithm}.ocsp`);
    const gnutls = run('ocsptool', ['--verify-response', '--load-trust', rootPem, '--infile', f, '--inder']);
    assert.match(gnutls.stdout + gnutls.stderr, /Verifying OCSP Response: Success/);
  });

  it('publish signs with the publication key; the online side imports it with only the root as trust anchor', async () => {
    await setUpDelegatedKeys(inst, ROOT, ['publication']);
    const out = join(dir, 'pub-1.json');
    const r = await publish(inst, { ...people, signerCa: ROOT, out });
    const bytes = readFileSync(out);
    const rootDer = inst.db.prepare('SELECT der FROM certificates WHERE profile = ?').get('root') as { der: Buffer };
    const v = verifyPublication(bytes, { trustAnchors: [rootDer.der], now: new Date() });
    assert.equal(v.manifest.version, r.version);
    assert.match(v.manifest.signer.certificatePath, new RegExp(`^issued/${ROOT}/[0-9a-f]+\\.crt$`));
    const store = new SqliteOnlineStore(join(dir, 'online.db'));
    assert.equal(store.importPublication(bytes, [rootDer.der]), r.version);
    store.close();
  });
});

describe('issue 15: the online side refuses what a root key signed directly', () => {
  let f: OnlineFixture;
  let anchors: Buffer[];
  before(() => {
    f = new OnlineFixture();
    anchors = [f.rsa.der, f.ec.der];
  });

  it('a format-1 (root-signed) publication is refused on import, but a copy imported before is still served', async () => {
    const legacy = await f.publication({ version: 1, rootSigned: true });
    assert.throws(
      () => verifyPublication(legacy, { trustAnchors: anchors, now: new Date() }),
      (e: Error & { code?: string }) => e.code === 'PUBLICATION_ROOT_SIGNED' && /BR 6\.1\.7/.test(e.message),
    );
    const store = new SqliteOnlineStore(join(f.dir, 'legacy.db'));
    assert.throws(
      () => store.importPublication(legacy, anchors),
      /PUBLICATION_ROOT_SIGNED|signed by a root key directly/,
    );
    assert.equal(store.latestVersion(), undefined, 'nothing stored');
    store.close();
    const held = verifyPublication(legacy, { trustAnchors: anchors, now: new Date(), acceptRootSigned: true });
    assert.equal(held.manifest.version, 1);
  });

  it('a format-2 publication carrying a root-signed OCSP response is refused', async () => {
    const legacy = await f.publication({ version: 1, rootSigned: true });
    const good = await f.publication({ version: 1 });
    // The good file with the root-signed response bytes put in (manifest digests updated and re-signed).
    const file = JSON.parse(good.toString('utf8'));
    const old = JSON.parse(legacy.toString('utf8'));
    const manifest = JSON.parse(file.manifest);
    const path = 'ocsp/rsaroot/7a11c0de0001.sha1.der';
    file.files[path] = old.files[path];
    const item = manifest.items.find((i: { path: string }) => i.path === path);
    const der = Buffer.from(old.files[path], 'base64');
    item.sha256 = createHash('sha256').update(der).digest('hex');
    item.size = der.length;
    const { canonicalJson } = await import('../src/util/canonical-json.ts');
    const { sign } = await import('node:crypto');
    file.manifest = canonicalJson(manifest);
    file.signature = sign('sha256', Buffer.from(file.manifest), f.delegated.get('rsaroot')!.publication.key).toString(
      'base64',
    );
    assert.throws(
      () => verifyPublication(Buffer.from(JSON.stringify(file)), { trustAnchors: anchors, now: new Date() }),
      (e: Error & { code?: string }) => e.code === 'PUBLICATION_ROOT_SIGNED' && e.message.includes(path),
    );
  });

  it('a manifest signed by the root key in a format-2 file is refused', async () => {
    const good = await f.publication({ version: 1 });
    const file = JSON.parse(good.toString('utf8'));
    const manifest = JSON.parse(file.manifest);
    manifest.signer.certificatePath = 'certs/rsaroot.crt';
    const { canonicalJson } = await import('../src/util/canonical-json.ts');
    const { sign } = await import('node:crypto');
    file.manifest = canonicalJson(manifest);
    file.signatureAlgorithm = 'sha256WithRSAEncryption';
    file.signature = sign('sha256', Buffer.from(file.manifest), f.rsa.key).toString('base64');
    assert.throws(
      () => verifyPublication(Buffer.from(JSON.stringify(file)), { trustAnchors: anchors, now: new Date() }),
      (e: Error & { code?: string }) => e.code === 'PUBLICATION_ROOT_SIGNED',
    );
  });
});
