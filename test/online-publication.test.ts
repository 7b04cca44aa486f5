/**
 * the online side accepts a publication file only when it verifies against its trust
 * anchors, whole; anything tampered with, stale, or signed by another key is refused with a
 * reason naming the item, and a refused import changes nothing in the online store.
 */
import assert from 'node:assert/strict';
import { sign } from 'node:crypto';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { CaError } from '../src/errors.ts';
import { SIGNATURE_ALGORITHMS } from '../src/pki/algorithms.ts';
import { certIdLookupKey, certIdsFor } from '../src/pki/ocsp.ts';
import type { Manifest, PublicationFile } from '../src/publish/format.ts';
import { verifyPublication } from '../src/publish/verify.ts';
import { canonicalJson } from '../src/util/canonical-json.ts';
import { SqliteOnlineStore } from '../src/server/online-store.ts';
import { OnlineFixture } from './online-fixtures.ts';

let f: OnlineFixture;
let v1: Buffer;
let v2: Buffer;
let anchors: Buffer[];
const REVOKED_AT = new Date('2026-01-02T03:04:05Z');

before(async () => {
  f = new OnlineFixture();
  anchors = [f.rsa.der, f.ec.der];
  v1 = await f.publication({ version: 1 });
  v2 = await f.publication({ version: 2, revoked: { '9b22c0de0002': { at: REVOKED_AT, reason: 'keyCompromise' } } });
});

const now = () => new Date();

function refused(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof CaError, `expected a CaError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, message);
    return true;
  });
}

/** Parses a publication file, lets `edit` change it, and (optionally) re-signs the manifest with the RSA root's publication key. */
function edit(bytes: Buffer, fn: (file: PublicationFile, manifest: Manifest) => void, resign = true): Buffer {
  const file = JSON.parse(bytes.toString('utf8')) as PublicationFile;
  const manifest = JSON.parse(file.manifest) as Manifest;
  fn(file, manifest);
  if (resign) {
    file.manifest = canonicalJson(manifest);
    const key = f.delegated.get(f.rsa.name)!.publication.key;
    file.signature = sign('sha256', Buffer.from(file.manifest, 'utf8'), key).toString('base64');
  }
  return Buffer.from(JSON.stringify(file));
}

function flipFileByte(file: PublicationFile, path: string, at = 10): void {
  const b = Buffer.from(file.files[path]!, 'base64');
  b[at] ^= 0x01;
  file.files[path] = b.toString('base64');
}

describe('R-2.4 verifyPublication', () => {
  it('a publication from writePublication verifies and is indexed for serving', () => {
    const p = verifyPublication(v2, { trustAnchors: anchors, previousVersion: 1, now: now() });
    assert.equal(p.manifest.version, 2);
    assert.deepEqual([...p.cas.keys()], ['rsaroot', 'ecroot']);
    assert.equal(p.index.size, 8, 'SHA-1 and SHA-256 responses for 4 certificates');
    const [sha1, sha256] = certIdsFor(f.rsa.der, '9b22c0de0002');
    assert.equal(p.index.get(certIdLookupKey(sha1!))!.status.status, 'revoked');
    assert.equal(p.index.get(certIdLookupKey(sha256!))!.meta.hashAlgorithm, 'sha256');
    assert.equal(p.certificates.get('rsaroot')!.get('009b22c0de0002')!.meta.reason, 'keyCompromise');
    assert.equal(p.crls.get('rsaroot')!.parsed.entries.length, 1);
    assert.equal(p.documents.length, 3);
    // Issuer hashes of both kinds recognise a serial the CA never issued.
    const unissued = certIdsFor(f.ec.der, '0badbad0');
    for (const id of unissued)
      assert.equal(
        p.issuers.get(`${id.hashAlgorithm}:${id.issuerNameHash.toString('hex')}:${id.issuerKeyHash.toString('hex')}`)
          ?.name,
        'ecroot',
      );
  });

  const cases: {
    name: string;
    make: () => Buffer | Promise<Buffer>;
    code?: string;
    message: RegExp;
    previous?: number;
  }[] = [
    {
      name: 'one byte of a file',
      make: () => edit(v1, (file) => flipFileByte(file, 'crl/rsaroot.crl'), false),
      message: /item crl\/rsaroot\.crl SHA-256 [0-9a-f]+ does not match the manifest/,
    },
    {
      name: 'one byte of the manifest',
      make: () =>
        edit(
          v1,
          (file) => {
            file.manifest = file.manifest.replace('"installation":"online-test"', '"installation":"online-tesT"');
          },
          false,
        ),
      message: /manifest signature \(ecdsa-with-SHA256\) does not verify with the key of rsaroot's signer certificate/,
    },
    {
      name: 'one byte of the signature',
      make: () =>
        edit(
          v1,
          (file) => {
            const s = Buffer.from(file.signature, 'base64');
            s[5] ^= 0x80;
            file.signature = s.toString('base64');
          },
          false,
        ),
      message: /manifest signature .* does not verify/,
    },
    {
      name: 'an older version',
      make: () => v1,
      previous: 2,
      code: 'PUBLICATION_STALE',
      message: /^version 1 is not newer than the current 2$/,
    },
    {
      name: 'the same version again',
      make: () => v2,
      previous: 2,
      code: 'PUBLICATION_STALE',
      message: /version 2 is not newer than the current 2/,
    },
    {
      name: 'an untrusted signer (a look-alike root: same subject, another key)',
      make: () => f.publication({ version: 3, signer: f.stranger, roots: [f.stranger, f.rsa, f.ec] }),
      message: /signer certificate certs\/stranger\.crt \(stranger\) is not a trust anchor of this Repository/,
    },
    {
      name: 'a file not in the manifest',
      make: () =>
        edit(
          v1,
          (file) => {
            file.files['docs/extra.md'] = Buffer.from('hi').toString('base64');
          },
          false,
        ),
      message: /file docs\/extra\.md is not in the manifest/,
    },
    {
      name: 'a file missing',
      make: () =>
        edit(
          v1,
          (file) => {
            delete file.files['issued/rsaroot/7a11c0de0001.crt'];
          },
          false,
        ),
      message: /item issued\/rsaroot\/7a11c0de0001\.crt is missing from the file/,
    },
    { name: 'not JSON', make: () => Buffer.from('{"manifest": '), message: /not JSON/ },
    {
      name: 'another format',
      make: () =>
        edit(v1, (_f, m) => {
          (m as { format: string }).format = 'rootca-publication/9';
        }),
      message: /manifest\.format is "rootca-publication\/9"/,
    },
    {
      name: 'a path leaving the Repository',
      make: () =>
        edit(v1, (file, m) => {
          m.items[m.items.length - 1]!.path = '../etc/passwd';
          file.files['../etc/passwd'] = file.files['docs/cp-subca-v1.0.md']!;
          delete file.files['docs/cp-subca-v1.0.md'];
        }),
      message: /manifest\.items\.\d+\.path: not a safe relative path/,
    },
    {
      name: 'a document served as HTML',
      make: () =>
        edit(v1, (_f, m) => {
          m.items.find((i) => i.kind === 'document')!.mediaType = 'text/html';
        }),
      message: /item docs\/cps-v5\.11\.md has media type "text\/html", a document is text\/markdown; charset=utf-8/,
    },
    {
      name: 'an OCSP response whose meta says revoked but which says good',
      make: () =>
        edit(v1, (_f, m) => {
          const it = m.items.find((i) => i.path === 'ocsp/rsaroot/7a11c0de0001.sha1.der')!;
          (it.meta as { status: string }).status = 'revoked';
        }),
      message:
        /OCSP response ocsp\/rsaroot\/7a11c0de0001\.sha1\.der: status good does not match the manifest \(revoked\)/,
    },
    {
      name: 'an OCSP response filed under another CertID',
      make: () =>
        edit(v1, (_f, m) => {
          const a = m.items.find((i) => i.path === 'ocsp/rsaroot/7a11c0de0001.sha1.der')!;
          const b = m.items.find((i) => i.path === 'ocsp/rsaroot/9b22c0de0002.sha1.der')!;
          (a.meta as { certIdKey: string }).certIdKey = (b.meta as { certIdKey: string }).certIdKey;
        }),
      message: /ocsp\/rsaroot\/7a11c0de0001\.sha1\.der: meta\.certIdKey is not the sha1 CertID of serial 7a11c0de0001/,
    },
    {
      name: '"good" for a serial the CA did not publish as issued',
      make: () =>
        edit(v1, (file, m) => {
          m.items = m.items.filter((i) => i.path !== 'issued/rsaroot/7a11c0de0001.crt');
          delete file.files['issued/rsaroot/7a11c0de0001.crt'];
        }),
      message: /says good for serial 7a11c0de0001, which rsaroot did not publish as issued/,
    },
    {
      name: "a CRL of another CA in place of the RSA root's",
      make: () =>
        edit(v1, (file, m) => {
          file.files['crl/rsaroot.crl'] = file.files['crl/ecroot.crl']!;
          const a = m.items.find((i) => i.path === 'crl/rsaroot.crl')!;
          const b = m.items.find((i) => i.path === 'crl/ecroot.crl')!;
          Object.assign(a, { sha256: b.sha256, size: b.size });
        }),
      message: /CRL crl\/rsaroot\.crl: issuer is not the subject of rsaroot/,
    },
    {
      name: 'a certificate revoked in the manifest but missing from the CRL',
      make: () =>
        edit(v1, (_f, m) => {
          const it = m.items.find((i) => i.path === 'issued/ecroot/3c33c0de0003.crt')!;
          Object.assign(it.meta, { status: 'revoked', revokedAt: REVOKED_AT.toISOString() });
        }),
      message: /certificate issued\/ecroot\/3c33c0de0003\.crt is revoked but not on CRL crl\/ecroot\.crl/,
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.name}`, async () => {
      const bytes = await c.make();
      refused(
        () => verifyPublication(bytes, { trustAnchors: anchors, previousVersion: c.previous, now: now() }),
        c.code ?? 'PUBLICATION_INVALID',
        c.message,
      );
    });
  }

  it('refuses a published CA that is not a trust anchor, even when the signer is one', async () => {
    const bytes = await f.publication({ version: 3, roots: [f.rsa, f.ec, f.stranger] });
    refused(
      () => verifyPublication(bytes, { trustAnchors: anchors, now: now() }),
      'PUBLICATION_INVALID',
      /CA stranger: certificate certs\/stranger\.crt is not a trust anchor/,
    );
    assert.equal(verifyPublication(bytes, { trustAnchors: [...anchors, f.stranger.der], now: now() }).cas.size, 3);
  });

  it("signer: the EC root's publication key (P-256, ecdsa-with-SHA256), its certificate issued by the EC root", async () => {
    const bytes = await f.publication({ version: 5, signer: f.ec });
    const file = JSON.parse(bytes.toString()) as PublicationFile;
    assert.equal(file.signatureAlgorithm, 'ecdsa-with-SHA256');
    assert.equal(SIGNATURE_ALGORITHMS[file.signatureAlgorithm].keyKind, 'ecdsa');
    const { signer } = verifyPublication(bytes, { trustAnchors: anchors, now: now() }).manifest;
    assert.deepEqual(signer, {
      ca: 'ecroot',
      certificatePath: `issued/ecroot/${f.delegated.get('ecroot')!.publication.serialHex}.crt`,
    });
  });
});

describe('R-2.4 online store (SQLite)', () => {
  it('first import needs trust anchors; they are kept; versions only move forward; a refused import changes nothing', async () => {
    const path = join(f.dir, 'store-test.db');
    let store = new SqliteOnlineStore(path);
    refused(() => store.importPublication(v1), 'TRUST_ANCHOR_MISSING', /--trust/);
    assert.equal(store.latest(), undefined);
    assert.equal(store.importPublication(v1, anchors), 1);
    assert.equal(store.trustAnchors().length, 2);
    refused(() => store.importPublication(v1), 'PUBLICATION_STALE', /version 1 is not newer than the current 1/);
    const tampered = edit(v2, (file) => flipFileByte(file, 'issued/rsaroot/9b22c0de0002.crt', 100), false);
    refused(
      () => store.importPublication(tampered, [f.stranger.der]),
      'PUBLICATION_INVALID',
      /item issued\/rsaroot\/9b22c0de0002\.crt SHA-256/,
    );
    assert.equal(store.latestVersion(), 1);
    assert.equal(store.trustAnchors().length, 2, 'the anchor offered with a refused import is not stored');
    store.close();
    store = new SqliteOnlineStore(path);
    assert.equal(store.importPublication(v2), 2, 'stored anchors verify later imports');
    assert.deepEqual(store.latest()!.bytes, v2);
    store.close();
  });
});
