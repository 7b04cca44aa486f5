/**
 * Issue 16 items 1-2: what is due and when, with a clock driven past each margin and expiry,
 * and the one status ceremony that re-signs it — its dry run listing exactly what the run then
 * signs, the result checked by `openssl crl -verify` and `openssl ocsp` at the clock's time
 * (under libfaketime), and a revocation not yet in a published CRL turning from a warning into
 * an error after 24 hours (BR 4.9.7).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fixedClock } from '../src/clock.ts';
import { parseInstallationConfig } from '../src/config/installation.ts';
import type { Installation } from '../src/installation/installation.ts';
import { issueCertificate } from '../src/issuance/issuance.ts';
import { derToPem } from '../src/pki/pem.ts';
import { certificateInfo } from '../src/pki/certificate-info.ts';
import { statusReport, type DueItem, type DueLevel } from '../src/status/due.ts';
import { revokeCertificate } from '../src/status/revocation.ts';
import { planStatusCeremony, runStatusCeremony } from '../src/status/status-ceremony.ts';
import { CaError } from '../src/errors.ts';
import { getCa } from '../src/installation/cas.ts';
import {
  allPassphrases,
  installationWithPeople,
  openssl,
  passphraseMap,
  rejectsWith,
  run,
  runShippedCeremony,
  setUpDelegatedKeys,
  storyTests,
  tempDir,
} from './helpers.ts';
import { TLS_SUBCA } from './subca-purpose.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const CA = 'ecc-rootca1';

/** OpenSSL at the installation clock's time (libfaketime), so validity checks see what a relying party would then. */
function opensslAt(at: Date, args: string[]): string {
  const stamp = at.toISOString().replace('T', ' ').slice(0, 19);
  const r = run('faketime', [stamp, 'openssl', ...args], { env: { ...process.env, TZ: 'UTC' } });
  if (r.status !== 0)
    throw new Error(`openssl ${args.join(' ')} at ${stamp} exited ${r.status}:\n${r.stderr}${r.stdout}`);
  return r.stdout + r.stderr;
}

describe('rootca status: what is due and when; the status ceremony re-signs it', () => {
  const dir = tempDir();
  const T0 = new Date(Math.floor(Date.now() / 1000) * 1000);
  const clock = fixedClock(T0);
  const source = passphraseMap(allPassphrases());
  const people = { operator: 'alice', witness: 'olivia', passphrases: source };
  let inst: Installation;
  let sub: { serial: string; pem: string };
  let outs = 0;
  const story = storyTests();
  const item = (kind: DueItem['kind']): DueItem => {
    const ca = statusReport(inst, CA).cas[0]!;
    return ca.items.find((i) => i.kind === kind)!;
  };
  const level = (): DueLevel => statusReport(inst).level;
  const ceremony = () => runStatusCeremony(inst, { caName: CA, ...people, out: join(dir, `pub-${++outs}.json`) });

  /** `openssl ocsp` on a stored response for the sub-CA at `at`, trusting only the root. */
  const opensslOcsp = (at: Date, file: string, hash: string) => {
    const root = join(dir, `${CA}.pem`);
    return opensslAt(
      at,
      ['ocsp', '-respin', file, '-issuer', root, ...(hash === 'sha256' ? ['-sha256'] : [])].concat([
        '-cert',
        sub.pem,
        '-CAfile',
        root,
        '-no_nonce',
      ]),
    );
  };
  /** The CRL and the sub-CA's responses the last ceremony signed, accepted by OpenSSL at the clock's time. */
  const assertOpensslAccepts = (crlDer: Buffer | undefined, responses: { der: Buffer; hash: string }[]) => {
    const root = join(dir, `${CA}.pem`);
    if (crlDer) {
      const f = join(dir, `crl-${outs}.pem`);
      writeFileSync(f, derToPem(crlDer, 'X509 CRL'));
      assert.match(opensslAt(clock.now(), ['crl', '-in', f, '-CAfile', root, '-noout', '-verify']), /verify OK/);
    }
    for (const r of responses) {
      const f = join(dir, `ocsp-${outs}-${r.hash}.der`);
      writeFileSync(f, r.der);
      const out = opensslOcsp(clock.now(), f, r.hash);
      assert.match(out, /Response verify OK/);
      assert.doesNotMatch(out, /Status times invalid/);
    }
  };
  /** The root's key id and its delegated keys' (the newest of each purpose). */
  const keyIds = () => {
    const rows = inst.db.prepare('SELECT key_id, purpose FROM delegated_keys ORDER BY created_at').all() as {
      key_id: string;
      purpose: string;
    }[];
    const newest = (purpose: string) => rows.filter((k) => k.purpose === purpose).at(-1)!.key_id;
    return { root: getCa(inst, CA).keyId, ocsp: newest('ocsp'), publication: newest('publication') };
  };
  /** The certificate a delegated key of the root is in service under now. */
  const delegatedCertificate = (purpose: string) =>
    inst.db
      .prepare(
        `SELECT c.serial_hex, c.der FROM delegated_keys d JOIN certificates c ON c.id = d.certificate_id
         WHERE d.purpose = ? ORDER BY d.created_at DESC LIMIT 1`,
      )
      .get(purpose) as { serial_hex: string; der: Buffer };
  /** The details of the last `status.ceremony` audit event. */
  const ceremonyEvent = () =>
    JSON.parse(
      (
        inst.db
          .prepare("SELECT details FROM audit_events WHERE action = 'status.ceremony' ORDER BY seq DESC LIMIT 1")
          .get() as { details: string }
      ).details,
    ) as { keyActivations: Record<string, number>; certificates: { serialHex: string; of: string }[] };
  const lastCrl = () => (inst.db.prepare('SELECT der FROM crls ORDER BY id DESC LIMIT 1').get() as { der: Buffer }).der;
  const lastResponses = () =>
    inst.db
      .prepare(
        `SELECT o.der, o.hash_algorithm AS hash FROM ocsp_responses o JOIN certificates c ON c.id = o.certificate_id
         WHERE o.ceremony_id = (SELECT max(id) FROM ceremonies) AND c.serial_hex = ?`,
      )
      .all(sub.serial) as { der: Buffer; hash: string }[];

  story('a new root with one subordinate CA: no CRL and no OCSP response are errors (exit 4)', async () => {
    inst = installationWithPeople({ dir, clock, more: true });
    inst.config.issuance.requireApplicationFor = [];
    await runShippedCeremony(inst, CA, dir);
    await setUpDelegatedKeys(inst, CA); // its responder and publication keys sign the responses and the manifest
    const key = join(dir, 'sub.key');
    openssl(
      ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key].concat([
        '-out',
        join(dir, 'sub.csr'),
        '-subj',
        '/C=JP/O=Example/CN=Due Sub CA',
      ]),
    );
    const r = await issueCertificate(inst, {
      ...people,
      caName: CA,
      profile: 'subca',
      ...TLS_SUBCA,
      csr: readFileSync(join(dir, 'sub.csr')),
    });
    sub = { serial: r.serialHex, pem: join(dir, 'sub.pem') };
    writeFileSync(sub.pem, r.certificatePem);
    assert.equal(item('crl').level, 'error');
    assert.match(item('crl').message, /has no CRL/);
    assert.equal(item('ocsp').level, 'error');
    assert.match(item('ocsp').message, new RegExp(`${sub.serial}: no pre-signed response`));
    // The root's responder and publication certificates (setUpDelegatedKeys) are listed with their renewal date.
    assert.match(item('certificate').message, /^renewal due at /);
    assert.equal(level(), 'error');
  });

  story('the dry run lists exactly what the run signs; after it everything is ok and OpenSSL accepts it', async () => {
    const plan = planStatusCeremony(inst, CA);
    assert.equal(plan.crl, 'the CA has no CRL');
    // The sub-CA and the root's responder and publication certificates: every issued certificate is answered.
    const due = plan.ocsp.map((o) => o.serialHex);
    assert.equal(due.length, 3);
    assert.ok(due.includes(sub.serial));
    assert.equal(plan.signatures, 8, 'one CRL, two responses per certificate, one manifest');
    const before = inst.db.prepare('SELECT count(*) AS n FROM ceremonies').get() as { n: number };
    assert.equal(planStatusCeremony(inst, CA).signatures, 8);
    assert.equal(
      (inst.db.prepare('SELECT count(*) AS n FROM ceremonies').get() as { n: number }).n,
      before.n,
      'the plan opens no ceremony',
    );
    const lastSeq = (inst.db.prepare('SELECT max(seq) AS seq FROM audit_events').get() as { seq: number }).seq;
    const r = await ceremony();
    assert.deepEqual(r.plan, plan);
    assert.equal(r.ocspResponses, 6);
    const signed = (
      inst.db.prepare("SELECT details FROM audit_events WHERE action = 'key.deactivate' AND seq > ?").all(lastSeq) as {
        details: string;
      }[]
    ).reduce((n, e) => n + (JSON.parse(e.details) as { signatures: number }).signatures, 0);
    assert.equal(signed, plan.signatures, 'the keys signed exactly the planned items, over all their activations');
    assert.equal(r.publication?.version, plan.publication?.version);
    assert.deepEqual(r.outputs, [join(dir, `pub-${outs}.json`)]);
    const t = JSON.parse(readFileSync(r.transcriptFile, 'utf8')) as {
      outputs: { name: string }[];
      details: { keyActivations: Record<string, number> };
    };
    // The root key signed only the CRL; its responder and publication keys signed the rest beside it, each counted.
    const keys = keyIds();
    assert.deepEqual(
      t.details.keyActivations,
      { [keys.root]: 1, [keys.ocsp]: 1, [keys.publication]: 1 },
      'the root key once (the CRL), the responder once for its approved batch of six responses (CPS 6.2.9), the publication key once',
    );
    assert.deepEqual(r.keyActivations, t.details.keyActivations);
    assert.deepEqual(
      ceremonyEvent().keyActivations,
      t.details.keyActivations,
      'the ceremony audit event counts them too',
    );
    assert.deepEqual(
      t.outputs.map((o) => o.name.replace(/#\d+/, '#N')),
      [
        `${CA} CRL #N`,
        ...due.flatMap((serial) => [`OCSP ${serial} sha1 (good)`, `OCSP ${serial} sha256 (good)`]),
        `publication v${plan.publication!.version}`,
      ],
    );
    assertOpensslAccepts(lastCrl(), lastResponses());
    assert.equal(level(), 'ok');
    await rejectsWith('STATUS_NOTHING_DUE', () => ceremony());
  });

  story('the OCSP margin (14 days before nextUpdate) turns it into a warning, nextUpdate into an error', async () => {
    const ocsp = item('ocsp');
    assert.equal(ocsp.expires, new Date(T0.getTime() + 90 * DAY).toISOString());
    assert.equal(ocsp.dueAt, new Date(T0.getTime() + 76 * DAY).toISOString());
    clock.set(new Date(T0.getTime() + 76 * DAY - 1000));
    assert.equal(level(), 'ok');
    clock.set(new Date(T0.getTime() + 76 * DAY));
    assert.equal(item('ocsp').level, 'warning');
    assert.equal(item('crl').level, 'ok');
    assert.equal(level(), 'warning');
    clock.set(new Date(T0.getTime() + 90 * DAY));
    assert.equal(item('ocsp').level, 'error');
    assert.equal(level(), 'error');
    const plan = planStatusCeremony(inst, CA);
    assert.equal(plan.crl, null, 'the CRL is good for 90 more days');
    assert.equal(plan.signatures, 7, 'two responses for each of three certificates, one manifest');
    const r = await ceremony();
    assert.equal(r.crl, null);
    assertOpensslAccepts(undefined, lastResponses());
    assert.equal(level(), 'ok');
  });

  story('the CRL margin (30 days before its 180-day nextUpdate) and its expiry', async () => {
    clock.set(new Date(T0.getTime() + 150 * DAY));
    assert.equal(item('crl').level, 'warning');
    assert.match(item('crl').message, /re-signing due since/);
    assert.equal(item('ocsp').level, 'ok', 'the responses signed on day 90 are due on day 166');
    clock.set(new Date(T0.getTime() + 180 * DAY));
    assert.equal(item('crl').level, 'error');
    assert.equal(item('ocsp').level, 'error');
    const plan = planStatusCeremony(inst, CA);
    assert.match(plan.crl ?? '', /expired/);
    assert.equal(plan.signatures, 8, 'the CRL, two responses for each of three certificates, the manifest');
    const r = await ceremony();
    assert.ok(r.crl);
    assertOpensslAccepts(lastCrl(), lastResponses());
    assert.equal(level(), 'ok');
  });

  story(
    'a revocation not in a published CRL: a warning for 24 hours, then an error; the ceremony publishes it',
    async () => {
      clock.set(new Date(T0.getTime() + 181 * DAY));
      await revokeCertificate(inst, {
        ...people,
        caName: CA,
        serial: sub.serial,
        reason: 'superseded',
        approvedBy: 'rita',
        deferCrl: true,
      });
      const revocation = () => statusReport(inst, CA).cas[0]!.items.find((i) => i.kind === 'revocation');
      assert.equal(revocation()?.level, 'warning');
      assert.equal(item('ocsp').level, 'error', 'the pre-signed responses still say good');
      assert.equal(revocation()?.expires, new Date(T0.getTime() + 181 * DAY + 24 * HOUR).toISOString());
      clock.set(new Date(T0.getTime() + 181 * DAY + 24 * HOUR - 1000));
      assert.equal(revocation()?.level, 'warning');
      clock.set(new Date(T0.getTime() + 181 * DAY + 24 * HOUR));
      assert.equal(revocation()?.level, 'error');
      const plan = planStatusCeremony(inst, CA);
      assert.match(plan.crl ?? '', new RegExp(`${sub.serial} revoked`));
      assert.deepEqual(plan.ocsp, [{ serialHex: sub.serial, why: 'a response says good but it is revoked' }]);
      await ceremony();
      assert.equal(revocation(), undefined, 'in the CRL of the newest publication file');
      assert.equal(level(), 'ok');
      for (const r of lastResponses())
        assert.match(
          opensslAt(
            clock.now(),
            ['ocsp', '-respin', writeTo(`revoked-${r.hash}.der`, r.der), '-issuer', join(dir, `${CA}.pem`)].concat(
              r.hash === 'sha256' ? ['-sha256'] : [],
              ['-cert', sub.pem, '-CAfile', join(dir, `${CA}.pem`), '-no_nonce'],
            ),
          ),
          /: revoked[\s\S]*Reason: superseded/,
        );
    },
  );

  story(
    'a delegated responder certificate: its expiry is listed, a warning 30 days before, an error at notAfter',
    async () => {
      const o = join(dir, 'responder');
      openssl(
        ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${o}.key`].concat(
          ['-out', `${o}.csr`, '-subj', '/C=JP/O=Example/CN=Due OCSP Responder'],
        ),
      );
      const r = await issueCertificate(inst, { ...people, caName: CA, profile: 'ocsp', csr: readFileSync(`${o}.csr`) });
      const responder = () =>
        statusReport(inst, CA).cas[0]!.items.find((i) => i.what.startsWith(`ocsp certificate ${r.serialHex}`))!;
      const notAfter = Date.parse(responder().expires!);
      assert.equal(responder().level, 'ok');
      assert.equal(responder().dueAt, new Date(notAfter - 30 * DAY).toISOString());
      clock.set(new Date(notAfter - 30 * DAY));
      assert.equal(responder().level, 'warning');
      assert.match(
        planStatusCeremony(inst, CA).notHere.join('\n'),
        new RegExp(`ocsp certificate ${r.serialHex} expires`),
      );
      clock.set(new Date(notAfter));
      assert.equal(responder().level, 'error');
    },
  );

  story(
    "the root's responder certificate within its margin: the ceremony issues its successor for the same key, then the responses under it",
    async () => {
      clock.set(new Date(T0.getTime() + 340 * DAY));
      const before = delegatedCertificate('ocsp');
      const responderItem = statusReport(inst, CA).cas[0]!.items.find((i) =>
        i.what.startsWith(`ocsp certificate ${before.serial_hex}`),
      )!;
      assert.equal(responderItem.level, 'warning');
      assert.match(responderItem.message, new RegExp(`rootca status ceremony ${CA} issues its successor`));
      const plan = planStatusCeremony(inst, CA);
      const keys = keyIds();
      assert.deepEqual(
        plan.certificates.map((c) => [c.profile, c.serialHex, c.keyId]),
        [['ocsp', before.serial_hex, keys.ocsp]],
      );
      // Within its 30-day margin, and responses signed now (90 days) would outlive it: the second is the reason given.
      assert.match(plan.certificates[0]!.why, /^responses pre-signed now \(until .*\) would outlive it \(notAfter /);
      // The responder certificate issued from an outside request (the story before) cannot be re-certified here.
      assert.match(plan.notHere.join('\n'), /ocsp certificate \w+ expired at .*not a delegated key held here/);
      assert.equal(
        plan.signatures,
        1 + plan.ocsp.length * 2 + 4 + 1,
        'CRL, responses, request + certificate + its two responses, manifest',
      );
      const r = await ceremony();
      assert.deepEqual(r.plan, plan);
      assert.equal(r.certificates.length, 1);
      const after = delegatedCertificate('ocsp');
      assert.equal(r.certificates[0]!.serialHex, after.serial_hex);
      assert.equal(r.certificates[0]!.of, before.serial_hex);
      assert.notEqual(after.serial_hex, before.serial_hex);
      // The same key and profile, the validity of the first: a year from now (the ocsp profile's maximum).
      const [was, now] = [certificateInfo(before.der), certificateInfo(after.der)];
      assert.ok(now.spkiDer.equals(was.spkiDer), 'the same responder key');
      // RFC 5280 4.1.2.5: notAfter is inclusive, so 365 days less a second.
      assert.equal(now.notAfter.getTime(), clock.now().getTime() + 365 * DAY - 1000);
      assert.deepEqual(now.extKeyUsage, was.extKeyUsage);
      // The old certificate is untouched: same bytes, not revoked, still listed.
      const old = inst.db.prepare('SELECT der FROM certificates WHERE serial_hex = ?').get(before.serial_hex) as {
        der: Buffer;
      };
      assert.ok(old.der.equals(before.der));
      assert.equal(
        (
          inst.db
            .prepare(
              'SELECT count(*) AS n FROM revocations r JOIN certificates c ON c.id = r.certificate_id WHERE c.serial_hex = ?',
            )
            .get(before.serial_hex) as { n: number }
        ).n,
        0,
      );
      const root = join(dir, `${CA}.pem`);
      const pem = writeTo('responder-successor.pem', Buffer.from(derToPem(after.der, 'CERTIFICATE')));
      assert.match(opensslAt(clock.now(), ['verify', '-CAfile', root, pem]), /: OK/);
      // Day 370: the old responder certificate has expired; the new responses verify with the new one they carry.
      for (const resp of lastResponses()) {
        const file = writeTo(`successor-${resp.hash}.der`, resp.der);
        const out = opensslOcsp(new Date(T0.getTime() + 370 * DAY), file, resp.hash);
        assert.match(out, /Response verify OK/);
        assert.match(out, /: revoked/);
      }
      const t = JSON.parse(readFileSync(r.transcriptFile, 'utf8')) as {
        outputs: { name: string }[];
        details: { keyActivations: Record<string, number> };
      };
      assert.equal(t.outputs[0]!.name, `ocsp certificate ${after.serial_hex} (successor of ${before.serial_hex})`);
      assert.deepEqual(t.details.keyActivations, {
        [keys.root]: 2,
        [keys.ocsp]: 2, // its request for the successor, then one batch for the responses (CPS 6.2.9)
        [keys.publication]: 1,
      });
      const events = (action: string) =>
        (inst.db.prepare('SELECT details FROM audit_events WHERE action = ?').all(action) as { details: string }[]).map(
          (e) => JSON.parse(e.details) as Record<string, unknown>,
        );
      assert.ok(events('certificate.issue').some((d) => d.serial === after.serial_hex && d.profile === 'ocsp'));
      assert.ok(
        events('delegated-key.certified').some(
          (d) =>
            d.certificateSerial === after.serial_hex && d.successorOf === before.serial_hex && d.keyId === keys.ocsp,
        ),
      );
      assert.deepEqual(
        ceremonyEvent().certificates.map((c) => c.of),
        [before.serial_hex],
      );
      const next = planStatusCeremony(inst, CA);
      assert.deepEqual(next.certificates, [], 'the successor is in date: nothing more to re-certify');
    },
  );

  story(
    'only the publication certificate is due: the ceremony issues its successor, answers for it, and signs the manifest under it',
    async () => {
      // Day 360 (the people's yearly training runs out on day 365, CPS 5.3.4), with a 40-day certificate margin:
      // the publication certificate of day 0 (397 days) is due, nothing else is.
      inst.config.status.certificateRenewBeforeDays = 40;
      clock.set(new Date(T0.getTime() + 360 * DAY));
      const before = delegatedCertificate('publication');
      const plan = planStatusCeremony(inst, CA);
      const keys = keyIds();
      assert.equal(plan.crl, null);
      assert.deepEqual(plan.ocsp, []);
      assert.deepEqual(
        plan.certificates.map((c) => [c.profile, c.serialHex, c.keyId]),
        [['publication', before.serial_hex, keys.publication]],
      );
      assert.equal(plan.publication?.why, 'the successor certificates and their responses');
      assert.equal(plan.signatures, 5, 'request + certificate + its two responses, manifest');
      const r = await ceremony();
      const after = delegatedCertificate('publication');
      assert.equal(r.certificates[0]!.serialHex, after.serial_hex);
      assert.ok(certificateInfo(after.der).spkiDer.equals(certificateInfo(before.der).spkiDer));
      // 397 days, as `rootca publication-key issue` gives the first (RFC 5280 4.1.2.5: a second less).
      assert.equal(certificateInfo(after.der).notAfter.getTime(), clock.now().getTime() + 397 * DAY - 1000);
      const written = inst.db
        .prepare("SELECT details FROM audit_events WHERE action = 'publication.written' ORDER BY seq DESC LIMIT 1")
        .get() as { details: string };
      assert.equal((JSON.parse(written.details) as { signerSerial: string }).signerSerial, after.serial_hex);
      assert.equal(r.ocspResponses, 2, 'the two responses for the successor');
      // The responder's two responses are one approved batch (CPS 6.2.9); the publication key signs its request and the manifest.
      assert.deepEqual(r.keyActivations, { [keys.root]: 1, [keys.ocsp]: 1, [keys.publication]: 2 });
      const pem = writeTo('publication-successor.pem', Buffer.from(derToPem(after.der, 'CERTIFICATE')));
      assert.match(opensslAt(clock.now(), ['verify', '-CAfile', join(dir, `${CA}.pem`), pem]), /: OK/);
    },
  );

  const writeTo = (name: string, der: Buffer) => {
    writeFileSync(join(dir, name), der);
    return join(dir, name);
  };
});

describe('status configuration: margins and the BR maximums', () => {
  const base = 'installation: {name: x}\nrepository: {baseUrl: "http://r.example"}\n';
  const refused = (yaml: string, re: RegExp) =>
    assert.throws(
      () => parseInstallationConfig(base + yaml, 'rootca.yaml'),
      (e: unknown) => e instanceof CaError && e.code === 'CONFIG_INVALID' && re.test(e.message),
    );

  it('defaults: CRL 180 days re-signed 30 before, OCSP 90 re-signed 14 before, 24 hours after a revocation', () => {
    const c = parseInstallationConfig(base, 'rootca.yaml');
    assert.deepEqual(c.crl, { validityDays: 180, renewBeforeDays: 30 });
    assert.deepEqual(c.ocsp, { validityDays: 90, renewBeforeDays: 14 });
    assert.deepEqual(c.status, { certificateRenewBeforeDays: 30, revocationPublishHours: 24 });
  });

  it('refuses a root CRL over twelve months (BR 4.9.7), OCSP over twelve months (BR 4.9.10), more than 24 hours after a revocation', () => {
    refused('crl: {validityDays: 366}\n', /at most 365 \(BR 4\.9\.7/);
    refused('ocsp: {validityDays: 400}\n', /at most 365 \(BR 4\.9\.10/);
    refused('status: {revocationPublishHours: 25}\n', /at most 24/);
  });

  it('refuses a margin as long as the validity (a new CRL would be due the moment it is signed)', () => {
    refused('crl: {validityDays: 30, renewBeforeDays: 30}\n', /renewBeforeDays must be less than validityDays/);
    refused('ocsp: {validityDays: 7, renewBeforeDays: 10}\n', /renewBeforeDays must be less than validityDays/);
    assert.equal(
      parseInstallationConfig(`${base}crl: {validityDays: 365, renewBeforeDays: 60}\n`, 'f').crl.renewBeforeDays,
      60,
    );
    // A file from before margins existed keeps loading: the margin is a sixth of a short life.
    assert.deepEqual(parseInstallationConfig(`${base}ocsp: {validityDays: 7}\n`, 'f').ocsp, {
      validityDays: 7,
      renewBeforeDays: 1,
    });
  });
});
