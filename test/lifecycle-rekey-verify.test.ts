/**
 * verifyPublication and link certificates (RFC 4210 4.4; CPS 5.6), with roots and links made by
 * the OpenSSL CLI: the fixture's "stranger" root has the RSA root's Name and another key, so it
 * plays the RSA root's earlier key. OldWithNew (the earlier key certified by the RSA root's key)
 * and NewWithOld (the RSA root's key certified by the earlier key) are accepted as further
 * ca-certificate items; certificates issued by the earlier key are accepted under the CA, and
 * OCSP requests naming the earlier key are recognised. Anything that only looks like a link is
 * refused whole.
 */
import assert from 'node:assert/strict';
import { createHash, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { SIGNATURE_ALGORITHMS } from '../src/pki/algorithms.ts';
import { certIdsFor } from '../src/pki/ocsp.ts';
import { pemToDer } from '../src/pki/pem.ts';
import { MEDIA_TYPES, type Manifest, type PublicationFile } from '../src/publish/format.ts';
import { issuerKeyOf, verifyPublication } from '../src/publish/verify.ts';
import { certificateInfo } from '../src/pki/certificate-info.ts';
import { canonicalJson } from '../src/util/canonical-json.ts';
import { openssl } from './helpers.ts';
import { OnlineFixture } from './online-fixtures.ts';

const LINK_EXT = `basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

describe('verifyPublication: link certificates of a re-keyed CA', () => {
  let fx: OnlineFixture;
  let base: Buffer;
  const der = (name: string) => pemToDer(readFileSync(fx.path(`${name}.pem`), 'utf8'), 'CERTIFICATE');

  before(async () => {
    fx = new OnlineFixture();
    fx.write('link.ext', LINK_EXT);
    const run = (args: string[]) => openssl(args, { cwd: fx.dir });
    const subject = '/C=JP/O=Example Trust/CN=Example RSA Root';
    // OldWithNew: the earlier (stranger) key, certified by the RSA root's key.
    run(['req', '-new', '-key', 'stranger.key', '-subj', subject, '-out', 'old.csr']);
    run([
      'x509',
      '-req',
      '-in',
      'old.csr',
      '-CA',
      'rsaroot.pem',
      '-CAkey',
      'rsaroot.key',
      '-set_serial',
      '0x10aa01',
      '-days',
      '365',
      '-sha256',
      '-extfile',
      'link.ext',
      '-out',
      'oldwithnew.pem',
    ]);
    // NewWithOld: the RSA root's key, certified by the earlier key.
    run(['req', '-new', '-key', 'rsaroot.key', '-subj', subject, '-out', 'new.csr']);
    run([
      'x509',
      '-req',
      '-in',
      'new.csr',
      '-CA',
      'stranger.pem',
      '-CAkey',
      'stranger.key',
      '-set_serial',
      '0x10aa02',
      '-days',
      '365',
      '-sha256',
      '-extfile',
      'link.ext',
      '-out',
      'newwithold.pem',
    ]);
    // A subordinate the earlier key issued.
    run(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'oldsub.key']);
    run(['req', '-new', '-key', 'oldsub.key', '-subj', '/C=JP/O=Example Trust/CN=old-key sub', '-out', 'oldsub.csr']);
    run([
      'x509',
      '-req',
      '-in',
      'oldsub.csr',
      '-CA',
      'stranger.pem',
      '-CAkey',
      'stranger.key',
      '-set_serial',
      '0x10aa03',
      '-days',
      '365',
      '-sha256',
      '-extfile',
      'subca.ext',
      '-out',
      'oldsub.pem',
    ]);
    // OpenSSL agrees these are links: the earlier key's sub verifies from the RSA root through OldWithNew.
    assert.match(
      openssl(['verify', '-CAfile', fx.rsa.pem, '-untrusted', fx.path('oldwithnew.pem'), fx.path('oldsub.pem')]),
      /OK/,
    );
    base = await fx.publication({ version: 1, roots: [fx.rsa] });
  });

  /** The base publication with more items, re-signed by the RSA root's publication key. */
  const withItems = (
    extra: { path: string; kind: 'ca-certificate' | 'certificate'; der: Buffer; meta: Record<string, unknown> }[],
  ): Buffer => {
    const file = JSON.parse(base.toString('utf8')) as PublicationFile;
    const manifest = JSON.parse(file.manifest) as Manifest;
    for (const x of extra) {
      manifest.items.push({
        path: x.path,
        kind: x.kind,
        mediaType: MEDIA_TYPES.certificate,
        sha256: createHash('sha256').update(x.der).digest('hex'),
        size: x.der.length,
        ca: 'rsaroot',
        meta: x.meta as never,
      });
      file.files[x.path] = x.der.toString('base64');
    }
    file.manifest = canonicalJson(manifest);
    // Re-signed by the RSA root's publication key, as every manifest is (issue 15.2).
    file.signature = sign(
      'sha256',
      Buffer.from(file.manifest, 'utf8'),
      fx.delegated.get('rsaroot')!.publication.key,
    ).toString('base64');
    return Buffer.from(JSON.stringify(file));
  };
  const link = (name: string, path = `certs/rsaroot-${name}.crt`) => {
    const d = der(name);
    const info = certificateInfo(d);
    return {
      path,
      kind: 'ca-certificate' as const,
      der: d,
      meta: {
        subject: info.subject,
        notBefore: info.notBefore.toISOString(),
        notAfter: info.notAfter.toISOString(),
        fingerprint: info.fingerprint,
        status: 'active',
      },
    };
  };
  const oldSub = () => {
    const d = der('oldsub');
    const info = certificateInfo(d);
    return {
      path: 'issued/rsaroot/10aa03.crt',
      kind: 'certificate' as const,
      der: d,
      meta: {
        serialHex: '10aa03',
        subject: info.subject,
        profile: 'subca',
        notBefore: info.notBefore.toISOString(),
        notAfter: info.notAfter.toISOString(),
        status: 'good',
      },
    };
  };
  const verify = (bytes: Buffer) => verifyPublication(bytes, { trustAnchors: [fx.rsa.der], now: new Date() });
  const refused = (bytes: Buffer, reason: RegExp) =>
    assert.throws(
      () => verify(bytes),
      (e: Error & { code?: string }) => e.code === 'PUBLICATION_INVALID' && reason.test(e.message),
    );

  it("accepts OldWithNew and NewWithOld, the earlier key's certificate, and recognises OCSP requests naming the earlier key", () => {
    const pub = verify(withItems([link('newwithold'), link('oldwithnew'), oldSub()]));
    assert.deepEqual(
      pub.links.map((l) => [l.kind, l.path]),
      [
        ['old-with-new', 'certs/rsaroot-oldwithnew.crt'],
        ['new-with-old', 'certs/rsaroot-newwithold.crt'],
      ],
    );
    const ca = pub.cas.get('rsaroot')!;
    assert.equal(ca.previousKeys.length, 1);
    assert.ok(ca.previousKeys[0]!.link.spkiDer.equals(fx.stranger.info.spkiDer));
    assert.ok(pub.certificates.get('rsaroot')!.has('10aa03'));
    for (const id of certIdsFor(fx.stranger.der, '10aa03'))
      assert.equal(
        pub.issuers.get(issuerKeyOf(id.hashAlgorithm, id.issuerNameHash, id.issuerKeyHash))?.name,
        'rsaroot',
      );
  });

  it("refuses the earlier key's certificate without the OldWithNew that certifies the key", () => {
    refused(withItems([oldSub()]), /10aa03\.crt: not issued by rsaroot/);
  });

  it("refuses a look-alike self-signed root offered as a link (same Name, not signed by the CA's key)", () => {
    refused(
      withItems([{ ...link('stranger'), path: 'certs/rsaroot-oldwithnew.crt' }]),
      /does not verify with rsaroot's key \(not an OldWithNew\)/,
    );
  });

  it('refuses a NewWithOld whose signing key no OldWithNew certifies', () => {
    refused(withItems([link('newwithold')]), /verifies with no earlier key an OldWithNew certifies/);
  });

  it('refuses any other certificate as a ca-certificate item', () => {
    refused(
      withItems([{ ...link('sub1'), path: 'certs/extra.crt' }]),
      /not listed in manifest\.cas and not a link certificate of rsaroot/,
    );
  });
});
