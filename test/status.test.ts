/**
 * offline status: revocation, CRLs and pre-signed OCSP responses for all
 * four roots, checked with OpenSSL as a relying party; and the publication file.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Installation } from '../src/installation/installation.ts';
import { issueCertificate } from '../src/issuance/issuance.ts';
import { publish } from '../src/status/publication.ts';
import { revokeCertificate, type RevokeParams } from '../src/status/revocation.ts';
import { issueCrl, presignOcsp } from '../src/status/ceremonies.ts';
import { listIssued } from '../src/issuance/certificates.ts';
import { parseCrl } from '../src/pki/crl.ts';
import { derToPem } from '../src/pki/pem.ts';
import { PUBLICATION_FORMAT, type Manifest, type PublicationFile } from '../src/publish/format.ts';
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
import { TLS_SUBCA } from './subca-purpose.ts';

const ROOTS = ['rootca1', 'rootca2', 'rootca3', 'ecc-rootca1'];

describe('R-4 revocation, CRLs and OCSP for the four roots', () => {
  const dir = tempDir();
  let inst: Installation;
  const source = passphraseMap(allPassphrases());
  const people = { operator: 'alice', witness: 'olivia', passphrases: source };
  const subs = new Map<string, { serial: string; key: string; pem: string }>();

  const makeSub = async (root: string, name: string) => {
    const key = join(dir, `${name}.key`);
    openssl([
      'req',
      '-new',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      key,
      '-out',
      join(dir, `${name}.csr`),
      '-subj',
      `/C=JP/O=Example/CN=${name}`,
    ]);
    const r = await issueCertificate(inst, {
      ...people,
      caName: root,
      profile: 'subca',
      ...TLS_SUBCA,
      csr: readFileSync(join(dir, `${name}.csr`)),
      signatureAlgorithm: root === 'rootca1' ? 'sha256WithRSAEncryption' : undefined,
    });
    const pem = join(dir, `${name}.pem`);
    writeFileSync(pem, r.certificatePem);
    return { serial: r.serialHex, key, pem };
  };

  before(async () => {
    inst = installationWithPeople({ dir, more: true });
    inst.config.issuance.requireApplicationFor = [];
    for (const r of ROOTS) {
      await runShippedCeremony(inst, r, dir);
      await setUpDelegatedKeys(inst, r);
      subs.set(r, await makeSub(r, `${r}-sub`));
    }
  });

  for (const root of ROOTS) {
    it(`${root}: a CRL that openssl crl -verify accepts; then a revocation that openssl verify -crl_check reports`, async () => {
      const first = await issueCrl(inst, { caName: root, ...people });
      const crl1 = join(dir, `${root}-1.crl`);
      writeFileSync(crl1, first.der);
      assert.match(
        openssl(['crl', '-inform', 'DER', '-in', crl1, '-CAfile', join(dir, `${root}.pem`), '-noout', '-verify']),
        /verify OK/,
      );
      const sub = subs.get(root)!;
      const crlPem1 = join(dir, `${root}-1.crl.pem`);
      writeFileSync(crlPem1, derToPem(first.der, 'X509 CRL'));
      assert.match(
        openssl(['verify', '-crl_check', '-CRLfile', crlPem1, '-CAfile', join(dir, `${root}.pem`), sub.pem]),
        /OK/,
      );

      const r = await revokeCertificate(inst, {
        ...people,
        caName: root,
        serial: sub.serial,
        reason: 'superseded',
        approvedBy: 'rita',
      });
      assert.ok(r.crl && r.crl.crlNumber > first.crlNumber, 'CRL numbers only grow');
      assert.equal(r.ocspResponses, 2, 'SHA-1 and SHA-256 CertID responses re-signed');
      const crlPem2 = join(dir, `${root}-2.crl.pem`);
      writeFileSync(crlPem2, derToPem(r.crl!.der, 'X509 CRL'));
      const v = run('openssl', [
        'verify',
        '-crl_check',
        '-CRLfile',
        crlPem2,
        '-CAfile',
        join(dir, `${root}.pem`),
        sub.pem,
      ]);
      assert.notEqual(v.status, 0);
      assert.match(v.stdout + v.stderr, /certificate revoked/);
      const text = openssl(['crl', '-in', crlPem2, '-noout', '-text']);
      assert.match(text, /X509v3 CRL Number:\s+\d+/);
      assert.match(text, /X509v3 Authority Key Identifier/);
      assert.match(text, /Superseded/);
      assert.equal(parseCrl(r.crl!.der).entries[0].serialHex.replace(/^00/, ''), sub.serial.replace(/^00/, ''));
    });
  }

  it('pre-signed OCSP responses verify with openssl for SHA-1 and SHA-256 CertIDs, good and revoked', async () => {
    const good = await makeSub('rootca3', 'rootca3-good');
    // A revoked certificate of its own, so the test does not count on an earlier one's revocation.
    const revoked = await makeSub('rootca3', 'rootca3-revoked');
    await revokeCertificate(inst, {
      ...people,
      caName: 'rootca3',
      serial: revoked.serial,
      reason: 'superseded',
      approvedBy: 'rita',
      deferCrl: true,
    });
    const pems = new Map([...subs.values(), good, revoked].map((c) => [c.serial, c.pem]));
    // The root's own delegated certificates (issue 15) are issued certificates and answered too.
    for (const c of listIssued(inst, 'rootca3').filter((x) => !pems.has(x.serialHex))) {
      pems.set(c.serialHex, join(dir, `issued-${c.serialHex}.pem`));
      writeFileSync(pems.get(c.serialHex)!, derToPem(c.der, 'CERTIFICATE'));
    }
    const r = await presignOcsp(inst, { caName: 'rootca3', ...people });
    assert.equal(r.responses, r.certificates * 2);
    const rows = inst.db
      .prepare(
        'SELECT o.der, o.hash_algorithm, o.status, x.serial_hex FROM ocsp_responses o JOIN certificates x ON x.id = o.certificate_id WHERE o.ceremony_id = (SELECT max(ceremony_id) FROM ocsp_responses)',
      )
      .all() as { der: Buffer; hash_algorithm: string; status: string; serial_hex: string }[];
    for (const row of rows) {
      const f = join(dir, `resp-${row.serial_hex}-${row.hash_algorithm}.der`);
      writeFileSync(f, row.der);
      const pem = pems.get(row.serial_hex)!;
      const out = openssl([
        'ocsp',
        '-respin',
        f,
        '-issuer',
        join(dir, 'rootca3.pem'),
        ...(row.hash_algorithm === 'sha256' ? ['-sha256'] : []),
        '-cert',
        pem,
        '-CAfile',
        join(dir, 'rootca3.pem'),
        '-no_nonce',
      ]);
      assert.match(out, /Response verify OK/);
      assert.match(out, new RegExp(`: ${row.status}`));
      if (row.status === 'revoked') assert.match(out, /Reason: superseded/);
    }
  });

  it('refuses a second revocation, an unknown serial, another CA\'s serial, suspension and "unspecified"', async () => {
    const base: Omit<RevokeParams, 'serial' | 'reason'> = { ...people, caName: 'rootca2', approvedBy: 'rita' };
    // Revoked here, so the test does not count on an earlier one's revocation.
    const sub = await makeSub('rootca2', 'rootca2-twice');
    await revokeCertificate(inst, { ...base, serial: sub.serial, reason: 'superseded', deferCrl: true });
    await rejectsWith(
      'ALREADY_REVOKED',
      () => revokeCertificate(inst, { ...base, serial: sub.serial, reason: 'superseded' }),
      /already revoked/,
    );
    await rejectsWith(
      'CERTIFICATE_UNKNOWN',
      () => revokeCertificate(inst, { ...base, serial: '7f00112233445566778899aabbccddee', reason: 'superseded' }),
      /never issued/,
    );
    await rejectsWith(
      'CERTIFICATE_OF_ANOTHER_CA',
      () => revokeCertificate(inst, { ...base, serial: subs.get('rootca3')!.serial, reason: 'superseded' }),
      /issued by rootca3/,
    );
    await rejectsWith(
      'REASON_NOT_ALLOWED',
      () => revokeCertificate(inst, { ...base, serial: sub.serial, reason: 'certificateHold' }),
      /do not suspend/,
    );
    await rejectsWith(
      'REASON_NOT_ALLOWED',
      () => revokeCertificate(inst, { ...base, serial: sub.serial, reason: 'unspecified' }),
      /unspecified/,
    );
    const fresh = await makeSub('rootca2', 'rootca2-x');
    await rejectsWith('APPROVAL_REQUIRED', () =>
      revokeCertificate(inst, { ...people, caName: 'rootca2', serial: fresh.serial, reason: 'cessationOfOperation' }),
    );
    await rejectsWith(
      'ROLE_MISSING',
      () =>
        revokeCertificate(inst, { ...base, serial: fresh.serial, reason: 'cessationOfOperation', approvedBy: 'bob' }),
      /ra-officer/,
    );
    const last = inst.audit.list().at(-1)!;
    assert.equal(last.outcome, 'refused');
  });

  it("accepts the subscriber's own keyCompromise request proven by the key (CPS 5.7.3), and refuses a proof by another key", async () => {
    const sub = await makeSub('ecc-rootca1', 'ecc-kc');
    const other = await makeSub('ecc-rootca1', 'ecc-other');
    const proof = (key: string, name: string) => {
      // Issue 15.7: the statement "compromise SERIAL TIME" binds the proof to this request.
      const at = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      openssl([
        'req',
        '-new',
        '-key',
        key,
        '-subj',
        `/CN=compromise ${sub.serial} ${at}`,
        '-out',
        join(dir, `${name}.csr`),
      ]);
      return readFileSync(join(dir, `${name}.csr`));
    };
    await rejectsWith(
      'PROOF_INVALID',
      () =>
        revokeCertificate(inst, {
          ...people,
          caName: 'ecc-rootca1',
          serial: sub.serial,
          reason: 'keyCompromise',
          keyCompromiseProof: proof(other.key, 'wrong-proof'),
        }),
      /another key/,
    );
    await rejectsWith('PROOF_NOT_APPLICABLE', () =>
      revokeCertificate(inst, {
        ...people,
        caName: 'ecc-rootca1',
        serial: sub.serial,
        reason: 'superseded',
        keyCompromiseProof: proof(sub.key, 'p1'),
      }),
    );
    const r = await revokeCertificate(inst, {
      ...people,
      caName: 'ecc-rootca1',
      serial: sub.serial,
      reason: 'keyCompromise',
      keyCompromiseProof: proof(sub.key, 'p2'),
      invalidityDate: new Date(Date.now() - 3_600_000),
    });
    assert.equal(r.reason, 'keyCompromise');
    writeFileSync(join(dir, 'kc.crl'), r.crl!.der);
    const text = openssl(['crl', '-inform', 'DER', '-in', join(dir, 'kc.crl'), '-noout', '-text']);
    assert.match(text, /Key Compromise/);
    assert.match(text, /Invalidity Date/);
  });

  it('never reuses a CRL number, even when one was taken and the process died before signing', async () => {
    const before = await issueCrl(inst, { caName: 'rootca2', ...people });
    // A crash after reserving the number and before signing leaves the number taken.
    inst.db
      .prepare('UPDATE crl_numbers SET last_number = last_number + 1 WHERE ca_id = (SELECT id FROM cas WHERE name = ?)')
      .run('rootca2');
    const after = await issueCrl(inst, { caName: 'rootca2', ...people });
    assert.equal(after.crlNumber, before.crlNumber + 2);
  });

  it('defers the CRL only when asked, with no key activation', async () => {
    const sub = await makeSub('rootca2', 'rootca2-deferred');
    const activations = inst.audit.list().filter((e) => e.action === 'key.activate').length;
    const r = await revokeCertificate(inst, {
      ...people,
      caName: 'rootca2',
      serial: sub.serial,
      reason: 'affiliationChanged',
      approvedBy: 'ravi',
      deferCrl: true,
    });
    assert.equal(r.crl, undefined);
    assert.equal(inst.audit.list().filter((e) => e.action === 'key.activate').length, activations);
  });

  it('R-2.4 writes a signed publication file; stale good responses for revoked certificates are left out and named', async () => {
    // rootca1 has a CRL whatever ran before.
    await issueCrl(inst, { caName: 'rootca1', ...people });
    const out = join(dir, 'publication-1.json');
    const r = await publish(inst, { ...people, signerCa: 'ecc-rootca1', out });
    const file = JSON.parse(readFileSync(out, 'utf8')) as PublicationFile;
    const manifest = JSON.parse(file.manifest) as Manifest;
    assert.equal(manifest.format, PUBLICATION_FORMAT);
    assert.equal(manifest.version, r.version);
    assert.deepEqual(manifest.cas.map((c) => c.name).sort(), [...ROOTS].sort());
    assert.ok(manifest.items.some((i) => i.kind === 'crl' && i.ca === 'rootca1'));
    assert.ok(
      r.warnings.some((w) => /rootca2-deferred|left out|no pre-signed/.test(w)),
      r.warnings.join('\n'),
    );
    for (const item of manifest.items.filter((i) => i.kind === 'ocsp-response')) {
      const cert = manifest.items.find(
        (c) =>
          c.kind === 'certificate' &&
          c.ca === item.ca &&
          (c.meta as { serialHex: string }).serialHex === (item.meta as { serialHex: string }).serialHex,
      )!;
      assert.equal(
        (item.meta as { status: string }).status,
        (cert.meta as { status: string }).status,
        'published OCSP answers tell the truth',
      );
    }
    await rejectsWith('OUTPUT_EXISTS', () => publish(inst, { ...people, signerCa: 'ecc-rootca1', out }));
    const second = await publish(inst, { ...people, signerCa: 'rootca2', out: join(dir, 'publication-2.json') });
    assert.equal(second.version, r.version + 1);
  });
});
