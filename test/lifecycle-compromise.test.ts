/**
 * CPS 5.7.1 / 5.7.3 compromise handling, checked with OpenSSL as a relying party: a
 * subscriber's key-compromise report revokes at once and in the same run issues the CRL,
 * re-signs the OCSP responses and writes a publication file; the CA-key compromise runbook
 * revokes everything with cACompromise, signs a last CRL/OCSP and stops the key signing.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { declareCaCompromise, reportKeyCompromise } from '../src/lifecycle/compromise.ts';
import type { Installation } from '../src/installation/installation.ts';
import { issueCertificate } from '../src/issuance/issuance.ts';
import { publish } from '../src/status/publication.ts';
import { terminateCa } from '../src/lifecycle/termination.ts';
import { CaError, type ErrorCode } from '../src/errors.ts';
import { issueCrl, presignOcsp } from '../src/status/ceremonies.ts';
import { derToPem } from '../src/pki/pem.ts';
import { verifyPublication, type VerifiedPublication } from '../src/publish/verify.ts';
import { renderRepositoryPage } from '../src/server/repository-page.ts';
import { rejectsWith, passphraseEnv } from './lifecycle-end-fixtures.ts';
import {
  allPassphrases,
  installationWithPeople,
  openssl,
  passphraseMap,
  rootca,
  run,
  runShippedCeremony,
  setUpDelegatedKeys,
  tempDir,
} from './helpers.ts';
import { TLS_SUBCA } from './subca-purpose.ts';

describe('CPS 5.7 compromise handling', () => {
  const dir = tempDir();
  let inst: Installation;
  const source = passphraseMap(allPassphrases());
  /** The one value a query selects. */
  const scalar = (sql: string, ...args: unknown[]): unknown =>
    Object.values(inst.db.prepare(sql).get(...args) as Record<string, unknown>)[0];
  const people = { operator: 'alice', witness: 'olivia', passphrases: source };
  const anchors = () => ['ecc-rootca1', 'rootca2'].map((r) => readFileSync(join(dir, `${r}.der`)));

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
    });
    const pem = join(dir, `${name}.pem`);
    writeFileSync(pem, r.certificatePem);
    return { serial: r.serialHex, key, pem };
  };

  /**
   * A CSR made with the compromised key: the subscriber's own signed report (CPS 5.7.3), bound to
   * this request by the statement "compromise SERIAL TIME" (issue 15.7) in its CN, or as given.
   */
  const proofSignedBy = (key: string, name: string, serial: string, cn = statement(serial)) => {
    openssl(['req', '-new', '-key', key, '-subj', `/CN=${cn}`, '-out', join(dir, `${name}.csr`)]);
    return readFileSync(join(dir, `${name}.csr`));
  };
  const statement = (serial: string, at = new Date()) =>
    `compromise ${serial} ${at.toISOString().replace(/\.\d{3}Z$/, 'Z')}`;

  const crlSaysRevoked = (root: string, crlDer: Buffer, subPem: string, name: string) => {
    const crl = join(dir, `${name}.crl.pem`);
    writeFileSync(crl, derToPem(crlDer, 'X509 CRL'));
    assert.match(openssl(['crl', '-in', crl, '-CAfile', join(dir, `${root}.pem`), '-noout', '-verify']), /verify OK/);
    const v = run('openssl', ['verify', '-crl_check', '-CRLfile', crl, '-CAfile', join(dir, `${root}.pem`), subPem]);
    assert.notEqual(v.status, 0, v.stdout);
    assert.match(v.stdout + v.stderr, /certificate revoked/);
    return openssl(['crl', '-in', crl, '-noout', '-text']);
  };

  /** openssl ocsp on the pre-signed responses the publication carries for `serial`, both CertID hashes. */
  const publishedOcsp = (pub: VerifiedPublication, root: string, serial: string, subPem: string): string[] => {
    const items = [...pub.items.values()].filter(
      (i) => i.kind === 'ocsp-response' && i.ca === root && (i.meta as { serialHex: string }).serialHex === serial,
    );
    assert.equal(items.length, 2, `SHA-1 and SHA-256 responses for ${serial} in the publication`);
    return items.map((i) => {
      const f = join(dir, `${root}-${serial}-${(i.meta as { hashAlgorithm: string }).hashAlgorithm}.ocsp`);
      writeFileSync(f, pub.files.get(i.path)!);
      return openssl([
        'ocsp',
        '-respin',
        f,
        '-issuer',
        join(dir, `${root}.pem`),
        ...((i.meta as { hashAlgorithm: string }).hashAlgorithm === 'sha256' ? ['-sha256'] : []),
        '-cert',
        subPem,
        '-CAfile',
        join(dir, `${root}.pem`),
        '-no_nonce',
      ]);
    });
  };

  const subs: Record<string, { serial: string; key: string; pem: string }> = {};

  /**
   * Publishes until the installation holds `n` publications: the tests that check a version
   * number make the versions before theirs when no earlier test did, so each runs alone too.
   */
  const publicationsUpTo = async (n: number) => {
    for (let i = Number(scalar('SELECT count(*) AS n FROM publications')); i < n; i++) {
      await publish(inst, { ...people, signerCa: 'ecc-rootca1', out: join(dir, `pub-before-${n}-${i + 1}.json`) });
    }
  };

  before(async () => {
    inst = installationWithPeople({ dir, more: true });
    inst.config.issuance.requireApplicationFor = [];
    for (const r of ['ecc-rootca1', 'rootca2']) {
      await runShippedCeremony(inst, r, dir);
      await setUpDelegatedKeys(inst, r);
    }
    subs.kc = await makeSub('ecc-rootca1', 'ecc-kc');
    subs.ra = await makeSub('ecc-rootca1', 'ecc-ra');
    subs.r2a = await makeSub('rootca2', 'r2-a');
    subs.r2b = await makeSub('rootca2', 'r2-b');
    await presignOcsp(inst, { caName: 'rootca2', ...people });
    await presignOcsp(inst, { caName: 'ecc-rootca1', ...people });
  });

  it('issue 15.7: refuses the original CSR on file, a CSR without the statement, for another serial or stale — audited, nothing revoked', async () => {
    const report = (proof: Buffer) =>
      reportKeyCompromise(inst, {
        ...people,
        caName: 'ecc-rootca1',
        serial: subs.kc!.serial,
        proof,
        publishOut: join(dir, 'pub-never.json'),
      });
    const refusals = () => inst.audit.list().filter((e) => e.outcome === 'refused').length;
    const before = refusals();
    await rejectsWith(
      'PROOF_REPLAYED',
      () => report(readFileSync(join(dir, 'ecc-kc.csr'))),
      /CSR on file for certificate/,
    );
    await rejectsWith(
      'PROOF_UNBOUND',
      () => report(proofSignedBy(subs.kc!.key, 'kc-unbound', subs.kc!.serial, `key compromise of ${subs.kc!.serial}`)),
      /names no certificate and time: .*challengePassword \(or CN\) is "compromise [0-9a-f]+ /,
    );
    await rejectsWith(
      'PROOF_UNBOUND',
      () => report(proofSignedBy(subs.kc!.key, 'kc-other', subs.kc!.serial, statement(subs.ra!.serial))),
      new RegExp(`names certificate ${subs.ra!.serial}, not ${subs.kc!.serial}`),
    );
    await rejectsWith(
      'PROOF_STALE',
      () =>
        report(
          proofSignedBy(
            subs.kc!.key,
            'kc-stale',
            subs.kc!.serial,
            statement(subs.kc!.serial, new Date(Date.now() - 2 * 86_400_000)),
          ),
        ),
      /last 24 hours/,
    );
    assert.equal(refusals(), before + 4, 'each refusal is audited');
    assert.equal(scalar('SELECT count(*) AS n FROM revocations WHERE serial_hex = ?', subs.kc!.serial), 0);
    assert.ok(!existsSync(join(dir, 'pub-never.json')));
  });

  it('a report signed with the compromised key revokes at once (keyCompromise), issues the CRL, re-signs OCSP and writes the publication', async () => {
    const out = join(dir, 'pub-kc.json');
    const r = await reportKeyCompromise(inst, {
      ...people,
      caName: 'ecc-rootca1',
      serial: subs.kc!.serial,
      proof: proofSignedBy(subs.kc!.key, 'kc-proof', subs.kc!.serial),
      publishOut: out,
      invalidityDate: new Date(Date.now() - 3_600_000),
    });
    assert.equal(r.revocation.reason, 'keyCompromise');
    assert.equal(r.revocation.ocspResponses, 2);
    const text = crlSaysRevoked('ecc-rootca1', r.revocation.crl!.der, subs.kc!.pem, 'kc');
    assert.match(text, /Key Compromise/);
    assert.match(text, /Invalidity Date/);
    const pub = verifyPublication(readFileSync(out), { trustAnchors: anchors(), now: new Date() });
    assert.equal(pub.manifest.version, r.publication.version);
    assert.equal(
      pub.crls.get('ecc-rootca1')!.meta.crlNumber,
      String(r.revocation.crl!.crlNumber),
      'the publication carries the new CRL',
    );
    for (const o of publishedOcsp(pub, 'ecc-rootca1', subs.kc!.serial, subs.kc!.pem)) {
      assert.match(o, /Response verify OK/);
      assert.match(o, /: revoked/);
      assert.match(o, /Reason: keyCompromise/);
    }
    const ev = inst.audit
      .list()
      .filter((e) => e.action === 'compromise.report')
      .at(-1)!;
    assert.equal(ev.outcome, 'success');
    assert.equal((ev.details as { source: string }).source, 'subscriber-key-compromise');
    assert.equal((ev.details as { publicationSha256: string }).publicationSha256, r.publication.sha256);
    // Issue 15.7: the proof is kept with the audit event, and replaying it is refused.
    const event = inst.audit
      .list()
      .filter((e) => e.action === 'compromise.report' && e.outcome === 'success')
      .at(-1)!;
    const kept = event.details as { proof: string; statement: string };
    assert.ok(Buffer.from(kept.proof, 'base64').equals(readFileSync(join(dir, 'kc-proof.csr'))));
    assert.match(kept.statement, new RegExp(`^compromise ${subs.kc!.serial} `));
    await rejectsWith(
      'PROOF_REPLAYED',
      () =>
        reportKeyCompromise(inst, {
          ...people,
          caName: 'ecc-rootca1',
          serial: subs.kc!.serial,
          proof: readFileSync(join(dir, 'kc-proof.csr')),
          publishOut: join(dir, 'pub-replay.json'),
        }),
      /already used \(audit event #\d+, [a-z.-]+\)/,
    );
  });

  it('a report through the RA; a report that could not be published is refused before anything is revoked', async () => {
    // Its own file in the way, and publication version 1 made here when no test before made it.
    const existing = join(dir, 'pub-in-the-way.json');
    writeFileSync(existing, 'in the way');
    await publicationsUpTo(1);
    await rejectsWith('OUTPUT_EXISTS', () =>
      reportKeyCompromise(inst, {
        ...people,
        caName: 'ecc-rootca1',
        serial: subs.ra!.serial,
        approvedBy: 'rita',
        publishOut: existing,
      }),
    );
    assert.equal(
      scalar('SELECT count(*) AS n FROM revocations WHERE serial_hex = ?', subs.ra!.serial),
      0,
      'nothing revoked',
    );
    assert.equal(inst.audit.list().at(-1)!.outcome, 'refused');
    await rejectsWith('APPROVAL_REQUIRED', () =>
      reportKeyCompromise(inst, {
        ...people,
        caName: 'ecc-rootca1',
        serial: subs.ra!.serial,
        publishOut: join(dir, 'pub-none.json'),
      }),
    );
    const r = await reportKeyCompromise(inst, {
      ...people,
      caName: 'ecc-rootca1',
      serial: subs.ra!.serial,
      approvedBy: 'rita',
      publishOut: join(dir, 'pub-ra.json'),
      publishSigner: 'rootca2',
    });
    assert.equal(r.publication.version, 2);
    crlSaysRevoked('ecc-rootca1', r.revocation.crl!.der, subs.ra!.pem, 'ra');
    const pub = verifyPublication(readFileSync(join(dir, 'pub-ra.json')), {
      trustAnchors: anchors(),
      previousVersion: 1,
      now: new Date(),
    });
    assert.equal(pub.manifest.signer.ca, 'rootca2');
  });

  it('rootca compromise report on the command line; usage errors exit 2', async () => {
    const env = passphraseEnv();
    await publicationsUpTo(2);
    const args = [
      '--home',
      inst.home,
      'compromise',
      'report',
      '--ca',
      'rootca2',
      '--serial',
      subs.r2b!.serial,
      '--operator',
      'alice',
      '--witness',
      'olivia',
    ];
    const bad = rootca([...args, '--publish-out', join(dir, 'cli-x.json')], { env });
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /exactly one of --proof/);
    proofSignedBy(subs.r2b!.key, 'r2b-proof', subs.r2b!.serial);
    const ok = rootca([...args, '--proof', join(dir, 'r2b-proof.csr'), '--publish-out', join(dir, 'pub-cli.json')], {
      env,
    });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /Revoked rootca2 [0-9a-f]+ \(keyCompromise\)/);
    assert.match(ok.stdout, /publication v3/);
    const pub = verifyPublication(readFileSync(join(dir, 'pub-cli.json')), {
      trustAnchors: anchors(),
      previousVersion: 2,
      now: new Date(),
    });
    const published = [...pub.certificates.get('rootca2')!.values()].find(
      (c) => c.meta.serialHex === subs.r2b!.serial,
    )!;
    assert.equal(published.meta.reason, 'keyCompromise');
  });

  it('the CA-key compromise runbook refuses the wrong people and a self-signed publication, changing nothing', async () => {
    const base = { ...people, caName: 'rootca2', authoriser: 'paula' };
    await rejectsWith('PUBLICATION_SIGNER_ENDING', () =>
      declareCaCompromise(inst, { ...base, publishOut: join(dir, 'never.json'), publishSigner: 'rootca2' }),
    );
    await rejectsWith('PUBLICATION_SIGNER_REQUIRED', () =>
      declareCaCompromise(inst, { ...base, publishOut: join(dir, 'never.json') }),
    );
    await rejectsWith(
      'ROLE_MISSING',
      () => declareCaCompromise(inst, { ...base, authoriser: 'bob' }),
      /person-responsible/,
    );
    await rejectsWith(
      'SAME_PERSON_TWICE',
      () => declareCaCompromise(inst, { ...base, witness: 'paula' }),
      /authoriser and witness/,
    );
    await rejectsWith('INVALIDITY_DATE_INVALID', () =>
      declareCaCompromise(inst, { ...base, compromisedAt: new Date(Date.now() + 86_400_000) }),
    );
    assert.equal(scalar("SELECT status FROM cas WHERE name = 'rootca2'"), 'active');
    assert.equal(scalar('SELECT count(*) AS n FROM ca_endings'), 0);
    assert.ok(inst.audit.list().filter((e) => e.action === 'ca.compromise' && e.outcome === 'refused').length >= 3);
  });

  it('the CA-key compromise runbook (interrupted, then resumed): everything revoked with cACompromise, last CRL/OCSP verified by openssl, the CA shows compromised, its key signs nothing more', async () => {
    // What the tests before leave, made here when they did not run: r2b revoked for keyCompromise, three publications.
    if (scalar('SELECT count(*) AS n FROM revocations WHERE serial_hex = ?', subs.r2b!.serial) === 0) {
      const proof = proofSignedBy(subs.r2b!.key, 'r2b-own-proof', subs.r2b!.serial);
      await reportKeyCompromise(inst, {
        ...people,
        caName: 'rootca2',
        serial: subs.r2b!.serial,
        proof,
        publishOut: join(dir, 'pub-r2b.json'),
      });
    }
    await publicationsUpTo(3);
    const compromisedAt = new Date(Date.now() - 86_400_000);
    compromisedAt.setUTCMilliseconds(0);
    const out = join(dir, 'pub-ca-compromise.json');
    const params = { ...people, caName: 'rootca2', authoriser: 'paula', compromisedAt };
    // The first run stops after the revocations; the CA is still active and the intent record open.
    await rejectsWith('SIMULATED_CRASH', () =>
      declareCaCompromise(inst, {
        ...params,
        step: (s) => {
          if (s === 'revoked') throw new CaError('SIMULATED_CRASH' as ErrorCode, 'stopped');
        },
      }),
    );
    assert.equal(scalar("SELECT status FROM cas WHERE name = 'rootca2'"), 'active');
    assert.equal(scalar("SELECT kind FROM ca_endings WHERE status = 'started'"), 'compromise');
    await rejectsWith('CA_ENDING_OTHER', () => terminateCa(inst, { ...params }), /unfinished compromise/);
    const r = await declareCaCompromise(inst, { ...params, publishOut: out, publishSigner: 'ecc-rootca1' });
    assert.equal(r.resumed, true);
    assert.deepEqual(r.revoked, [], 'revoked by the interrupted run');
    assert.deepEqual(
      inst.db
        .prepare(
          // The subordinate CAs; the root's own responder and publication certificates are revoked with cACompromise too.
          "SELECT serial_hex, reason FROM revocations WHERE issuer_ca_id = (SELECT id FROM cas WHERE name = 'rootca2') AND certificate_id IN (SELECT id FROM certificates WHERE profile = 'subca') ORDER BY serial_hex",
        )
        .all(),
      [
        { serial_hex: subs.r2a!.serial, reason: 'cACompromise' },
        { serial_hex: subs.r2b!.serial, reason: 'keyCompromise' },
      ].sort((a, b) => a.serial_hex.localeCompare(b.serial_hex)),
      'what was revoked before keeps its reason',
    );
    assert.equal(
      r.ocspResponses,
      8,
      "a last response per certificate (the root's two delegated ones too) and CertID hash",
    );
    assert.equal(
      Math.round((r.crlNextUpdate.getTime() - Date.now()) / 86_400_000),
      365,
      'the last CRL lives as long as BR 4.9.7 allows',
    );
    const crl = scalar(
      "SELECT der FROM crls WHERE ca_id = (SELECT id FROM cas WHERE name = 'rootca2') AND crl_number = ?",
      r.crlNumber,
    ) as Buffer;
    const text = crlSaysRevoked('rootca2', crl, subs.r2a!.pem, 'cacomp');
    assert.match(text, /CA Compromise/);
    assert.match(text, /Key Compromise/, 'the subscriber report before keeps its reason');
    assert.match(text, /Invalidity Date:\s+\w{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4} GMT/);
    assert.equal(
      scalar('SELECT invalidity_date FROM revocations WHERE serial_hex = ?', subs.r2a!.serial),
      compromisedAt.toISOString(),
    );

    const pub = verifyPublication(readFileSync(out), { trustAnchors: anchors(), previousVersion: 3, now: new Date() });
    assert.equal(pub.cas.get('rootca2')!.meta.status, 'compromised');
    assert.equal(pub.cas.get('ecc-rootca1')!.meta.status, 'active');
    for (const o of publishedOcsp(pub, 'rootca2', subs.r2a!.serial, subs.r2a!.pem)) {
      assert.match(o, /Response verify OK/);
      assert.match(o, /Reason: cACompromise/);
    }
    const page = renderRepositoryPage(pub, { ocspUrl: 'http://127.0.0.1/ocsp' });
    assert.match(page, /<th scope="row">rootca2<\/th>[^\n]*Compromised/i);

    // The key signs nothing more: issuance, CRL, OCSP, publication and the runbook itself are refused.
    await rejectsWith(
      'CA_NOT_ACTIVE',
      () =>
        issueCertificate(inst, {
          ...people,
          caName: 'rootca2',
          profile: 'subca',
          ...TLS_SUBCA,
          csr: readFileSync(join(dir, 'r2-a.csr')),
        }),
      /compromised/,
    );
    await rejectsWith('CA_NOT_ACTIVE', () => issueCrl(inst, { caName: 'rootca2', ...people }), /compromised/);
    await rejectsWith('CA_NOT_ACTIVE', () => presignOcsp(inst, { caName: 'rootca2', ...people }), /compromised/);
    await rejectsWith(
      'CA_NOT_ACTIVE',
      () => publish(inst, { ...people, signerCa: 'rootca2', out: join(dir, 'never2.json') }),
      /compromised/,
    );
    await rejectsWith('CA_ALREADY_COMPROMISED', () =>
      declareCaCompromise(inst, { ...people, caName: 'rootca2', authoriser: 'paula' }),
    );

    const events = inst.audit.list().filter((e) => e.target.split('/')[0] === 'rootca2');
    assert.ok(
      events.some(
        (e) =>
          e.action === 'ca.compromise' && e.outcome === 'success' && (e.details as { step: string }).step === 'started',
      ),
    );
    assert.ok(
      events.some(
        (e) =>
          e.action === 'ca.compromise' &&
          e.outcome === 'success' &&
          (e.details as { step: string }).step === 'completed',
      ),
    );
    assert.ok(
      events.some(
        (e) =>
          e.action === 'ca.compromise' && e.outcome === 'success' && (e.details as { step: string }).step === 'resumed',
      ),
    );
    assert.ok(
      events.some(
        (e) =>
          e.action === 'ca.compromise' &&
          e.outcome === 'failed' &&
          (e.details as { code: string }).code === 'SIMULATED_CRASH',
      ),
    );
    assert.ok(
      events.some(
        (e) => e.action === 'certificate.revoke' && (e.details as { reason: string }).reason === 'cACompromise',
      ),
    );
    assert.ok(
      events.some(
        (e) =>
          e.action === 'certificate.issue' &&
          e.outcome === 'refused' &&
          (e.details as { code: string }).code === 'CA_NOT_ACTIVE',
      ),
    );
    const participants = (
      events.find((e) => e.action === 'ca.compromise' && (e.details as { step: string }).step === 'completed')!
        .details as { participants: { operator: string; as: string }[] }
    ).participants;
    assert.ok(participants.some((p) => p.operator === 'paula' && p.as === 'authoriser'));
    assert.ok(participants.some((p) => p.operator === 'olivia' && p.as === 'witness'));
  });
});
