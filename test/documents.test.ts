/**
 * R-10.1 (CPS 1.5, 2.2, 2.3, 9.12): the CPS as a versioned document. Proposed by the Person
 * Responsible, approved by the Committee (not the proposer), published with the next version
 * number (critical: major, non-critical: minor) and its history; the signed publication file
 * carries every version, the latest at a stable path and the history, and is the notice that
 * starts the one-week claim period. The online Repository serves them over HTTP byte for byte
 * as approved (SHA-256 in the audit log = in the manifest = of the HTTP body), and the page
 * lists them. The claim period runs on the injected clock.
 */
import assert from 'node:assert/strict';
import { createHash, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  approveDocument,
  listDocumentVersions,
  nextVersion,
  proposeDocument,
  publishDocument,
  recordClaim,
  rejectDocument,
  type DocumentVersion,
} from '../src/documents/documents.ts';
import type { Installation } from '../src/installation/installation.ts';
import { addOperator } from '../src/people/operators.ts';
import { gatherPublication, publish } from '../src/status/publication.ts';
import { fixedClock } from '../src/clock.ts';
import { CaError } from '../src/errors.ts';
import type { DocumentMeta, Manifest, PublicationFile } from '../src/publish/format.ts';
import { verifyPublication } from '../src/publish/verify.ts';
import { startServer, type RunningServer } from '../src/server/app.ts';
import { renderRepositoryPage } from '../src/server/repository-page.ts';
import { canonicalJson } from '../src/util/canonical-json.ts';
import { refused } from './refusals.ts';
import {
  allPassphrases,
  installationWithPeople,
  passphraseMap,
  rootca,
  runShippedCeremony,
  setUpDelegatedKeys,
  storyTests,
  tempDir,
} from './helpers.ts';
import { OnlineFixture } from './online-fixtures.ts';

const DAY = 24 * 3600 * 1000;
const CPS_FILE = join(import.meta.dirname, '../../shared/spec/cps-security-communication-rootca-v5.12.txt');
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

const COMMITTEE = { cora: `cora-${process.pid}-committee member`, pat: `pat-${process.pid}-responsible+committee` };
const passphrases = passphraseMap({ ...allPassphrases(), ...COMMITTEE });

describe('R-10.1 the CPS as a versioned document', () => {
  const dir = tempDir();
  const t0 = new Date(Math.floor((Date.now() - 60_000) / 1000) * 1000);
  const clock = fixedClock(t0);
  let inst: Installation;
  let server: RunningServer | undefined;
  const cpsText = readFileSync(CPS_FILE);
  const amended = (n: string) => Buffer.from(`${cpsText.toString('utf8')}\n\nAmendment ${n}.\n`, 'utf8');
  const by = (name: string) => ({ by: name, passphrases });
  const cps = () => listDocumentVersions(inst, 'cps');
  const lastAudit = () => inst.audit.list().at(-1)!;
  const pubFile = (n: number) => join(dir, `publication-${n}.json`);
  const publishNow = (n: number) =>
    publish(inst, { signerCa: 'ecc-rootca1', operator: 'alice', witness: 'olivia', passphrases, out: pubFile(n) });

  /** The story of one CPS: each test builds on the ones before it (storyTests runs them first when alone). */
  const story = storyTests();

  before(async () => {
    inst = installationWithPeople({ clock, dir, more: true });
    const today = t0.toISOString().slice(0, 10);
    addOperator(inst, {
      name: 'cora',
      roles: ['improvement-committee'],
      kind: 'ed25519',
      passphrase: Buffer.from(COMMITTEE.cora),
      trainedOn: today,
      backgroundCheckedOn: today,
    });
    addOperator(inst, {
      name: 'pat',
      roles: ['person-responsible', 'improvement-committee'],
      kind: 'ed25519',
      passphrase: Buffer.from(COMMITTEE.pat),
      trainedOn: today,
      backgroundCheckedOn: today,
    });
    await runShippedCeremony(inst, 'ecc-rootca1', dir, allPassphrases());
    await setUpDelegatedKeys(inst, 'ecc-rootca1');
  });
  after(async () => {
    await server?.close();
    inst?.close();
  });

  it('version numbers: critical raises the major, non-critical the minor (CPS 9.12.1)', () => {
    assert.equal(nextVersion(null, false, null), '1.00');
    assert.equal(nextVersion(null, true, '5.12'), '5.12');
    assert.equal(nextVersion('5.12', false, null), '5.13');
    assert.equal(nextVersion('5.12', true, null), '6.00');
    assert.equal(nextVersion('4.09', false, null), '4.10');
    assert.throws(() => nextVersion('4.99', false, null), /DOCUMENT_VERSION_EXHAUSTED|no next minor/);
  });

  story(
    'refusals before anything exists: wrong role, bad name, no title, nothing to approve; each audited',
    async () => {
      await refused(
        proposeDocument(inst, {
          ...by('alice'),
          name: 'cps',
          title: 'CPS',
          text: cpsText,
          critical: false,
          description: 'x',
        }),
        'ROLE_MISSING',
        /person-responsible/,
      );
      assert.equal(lastAudit().outcome, 'refused');
      await refused(
        proposeDocument(inst, {
          ...by('paula'),
          name: 'CPS!',
          title: 'CPS',
          text: cpsText,
          critical: false,
          description: 'x',
        }),
        'DOCUMENT_NAME_INVALID',
      );
      await refused(
        proposeDocument(inst, {
          ...by('paula'),
          name: 'cp-x-history',
          title: 'CP',
          text: cpsText,
          critical: false,
          description: 'x',
        }),
        'DOCUMENT_NAME_INVALID',
      );
      await refused(
        proposeDocument(inst, { ...by('paula'), name: 'cps', text: cpsText, critical: false, description: 'x' }),
        'DOCUMENT_TITLE_REQUIRED',
      );
      await refused(
        proposeDocument(inst, {
          ...by('paula'),
          name: 'cps',
          title: 'CPS',
          text: Buffer.from([0xff, 0xfe]),
          critical: false,
          description: 'x',
        }),
        'DOCUMENT_TEXT_INVALID',
        /UTF-8/,
      );
      await refused(
        proposeDocument(inst, {
          ...by('paula'),
          name: 'cps',
          title: 'CPS',
          text: cpsText,
          critical: false,
          description: 'x',
          initialVersion: '5.1',
        }),
        'DOCUMENT_VERSION_INVALID',
      );
      await refused(approveDocument(inst, { ...by('cora'), name: 'cps' }), 'DOCUMENT_NO_AMENDMENT');
      assert.equal(lastAudit().action, 'document.approve');
      assert.equal(lastAudit().outcome, 'refused');
      assert.deepEqual(cps(), [], 'nothing was stored');
    },
  );

  story(
    'propose -> approve by the Committee -> publish: the existing CPS taken over as 5.12, its digest audited',
    async () => {
      const p = await proposeDocument(inst, {
        ...by('paula'),
        name: 'cps',
        title: 'Security Communication RootCA Certification Practice Statement',
        text: cpsText,
        critical: false,
        description: 'Overall revision of the descriptions and styles',
        initialVersion: '5.12',
      });
      assert.equal(p.status, 'proposed');
      assert.equal(p.sha256, sha256(cpsText));
      assert.equal(lastAudit().action, 'document.propose');
      assert.equal((lastAudit().details as { sha256: string }).sha256, sha256(cpsText));

      await refused(
        publishDocument(inst, { ...by('paula'), name: 'cps' }),
        'DOCUMENT_NOT_APPROVED',
        /Committee approves it/,
      );
      assert.equal(lastAudit().outcome, 'refused');
      await refused(
        proposeDocument(inst, {
          ...by('paula'),
          name: 'cps',
          text: amended('x'),
          critical: false,
          description: 'second',
        }),
        'DOCUMENT_AMENDMENT_OPEN',
      );
      await refused(approveDocument(inst, { ...by('rita'), name: 'cps' }), 'ROLE_MISSING', /improvement-committee/);
      assert.equal(cps()[0]!.state, 'proposed', 'refusals changed nothing');

      const a = await approveDocument(inst, { ...by('cora'), name: 'cps' });
      assert.equal(a.status, 'approved');
      assert.equal(a.decidedBy, 'cora');
      await refused(approveDocument(inst, { ...by('cora'), name: 'cps' }), 'DOCUMENT_STATE', /already approved/);
      await refused(rejectDocument(inst, { ...by('cora'), name: 'cps', reason: 'late' }), 'DOCUMENT_STATE');

      const v = await publishDocument(inst, { ...by('paula'), name: 'cps' });
      assert.equal(v.version, '5.12');
      assert.equal(v.status, 'published-awaiting-repository');
      const ev = lastAudit();
      assert.equal(ev.action, 'document.publish');
      assert.deepEqual(
        [(ev.details as { version: string }).version, (ev.details as { sha256: string }).sha256],
        ['5.12', sha256(cpsText)],
      );
      await refused(publishDocument(inst, { ...by('paula'), name: 'cps' }), 'DOCUMENT_NO_AMENDMENT');
      await refused(
        recordClaim(inst, { ...by('rita'), name: 'cps', claimant: 'Example Corp', text: 'too early' }),
        'CLAIM_PERIOD_NOT_STARTED',
      );
    },
  );

  story('the proposer does not approve their own amendment, even holding the Committee role (CPS 5.2.4)', async () => {
    await proposeDocument(inst, {
      ...by('pat'),
      name: 'cp-subca',
      title: 'Security Communication RootCA Subordinate CA Certificate Policy',
      text: Buffer.from('# Subordinate CA CP\n'),
      critical: true,
      description: 'first version',
    });
    await refused(approveDocument(inst, { ...by('pat'), name: 'cp-subca' }), 'SAME_PERSON_TWICE');
    await refused(rejectDocument(inst, { ...by('cora'), name: 'cp-subca' }), 'REASON_REQUIRED');
    const r = await rejectDocument(inst, {
      ...by('cora'),
      name: 'cp-subca',
      reason: 'the CP is part of the CPS for now',
    });
    assert.equal(r.status, 'rejected');
    await refused(publishDocument(inst, { ...by('paula'), name: 'cp-subca' }), 'DOCUMENT_NO_AMENDMENT');
  });

  story('the first publication file is the notice: 5.12 enters its claim period; the RA records a claim', async () => {
    const r = await publishNow(1);
    const manifest = JSON.parse((JSON.parse(readFileSync(r.path, 'utf8')) as PublicationFile).manifest) as Manifest;
    const docs = manifest.items.filter((i) => i.kind === 'document').map((i) => [i.path, i.sha256]);
    assert.deepEqual(docs, [
      ['docs/cps-v5.12.md', sha256(cpsText)],
      ['docs/cps.md', sha256(cpsText)],
      ['docs/cps-history.md', docs[2]![1]],
    ]);
    const written = inst.audit.list().find((e) => e.action === 'publication.written')!;
    assert.deepEqual(
      (written.details as { documents: { path: string; sha256: string }[] }).documents.map((d) => [d.path, d.sha256]),
      docs,
    );
    const v = cps()[0]!;
    assert.equal(v.status, 'published-in-claim-period');
    assert.equal(v.noticedAt, manifest.createdAt);
    assert.equal(Date.parse(v.claimsUntil!) - Date.parse(v.noticedAt!), 7 * DAY);

    await refused(
      recordClaim(inst, { ...by('paula'), name: 'cps', claimant: 'Example Corp', text: 'x' }),
      'ROLE_MISSING',
      /ra-officer/,
    );
    await refused(
      recordClaim(inst, { ...by('rita'), name: 'cps', version: '9.99', claimant: 'Example Corp', text: 'x' }),
      'DOCUMENT_VERSION_UNKNOWN',
    );
    clock.advance(DAY);
    const c = await recordClaim(inst, {
      ...by('rita'),
      name: 'cps',
      claimant: 'Example Corp <pki@example.jp>',
      text: 'section 4.9 shortens our notice period',
    });
    assert.deepEqual(
      c.claims.map((x) => [x.claimant, x.recordedBy]),
      [['Example Corp <pki@example.jp>', 'rita']],
    );
    assert.equal(lastAudit().action, 'document.claim');
  });

  story(
    'amendments: non-critical 5.13, then critical 6.00, each with date and description in the history',
    async () => {
      clock.advance(DAY);
      const flow = async (text: Buffer, critical: boolean, description: string): Promise<DocumentVersion> => {
        await proposeDocument(inst, { ...by('paula'), name: 'cps', text, critical, description });
        await approveDocument(inst, { ...by('cora'), name: 'cps' });
        return publishDocument(inst, { ...by('paula'), name: 'cps' });
      };
      assert.equal((await flow(amended('one'), false, 'Typographical corrections in 1.5.2')).version, '5.13');
      assert.equal((await flow(amended('two'), true, 'OCSP | CRL: new\nrevocation rules')).version, '6.00');
      await publishNow(2);
      assert.deepEqual(
        cps().map((v) => [v.version, v.status]),
        [
          ['5.12', 'published-in-claim-period'],
          ['5.13', 'published-in-claim-period'],
          ['6.00', 'published-in-claim-period'],
        ],
      );
      // 5.12 keeps its notice from publication 1; the new ones start now.
      assert.equal(Date.parse(cps()[1]!.claimsUntil!) - Date.parse(cps()[0]!.claimsUntil!), 2 * DAY);
    },
  );

  story('the Repository serves the latest, every older version and the history over HTTP; digests match', async () => {
    const anchor = join(dir, 'ecc-rootca1.pem');
    const store = `sqlite:${join(dir, 'online.db')}`;
    const imp = rootca(['online', 'import', pubFile(2), '--store', store, '--trust', anchor]);
    assert.equal(imp.status, 0, imp.stderr);
    server = await startServer({ store, port: 0, pollMs: 100_000 });
    const get = async (p: string) => {
      const r = await fetch(`${server!.httpUrl}${p}`);
      return {
        status: r.status,
        type: r.headers.get('content-type'),
        etag: r.headers.get('etag'),
        body: Buffer.from(await r.arrayBuffer()),
      };
    };
    const byVersion = new Map(cps().map((v) => [v.version, v]));
    const latest = await get('/docs/cps.md');
    assert.equal(latest.status, 200);
    assert.equal(latest.type, 'text/markdown; charset=utf-8');
    assert.deepEqual(latest.body, amended('two'));
    assert.equal(sha256(latest.body), byVersion.get('6.00')!.sha256);
    const old = await get('/docs/cps-v5.12.md');
    assert.deepEqual(old.body, cpsText, 'the approved bytes, unchanged');
    assert.equal(old.etag, `"${sha256(cpsText)}"`);
    assert.equal(sha256((await get('/docs/cps-v5.13.md')).body), byVersion.get('5.13')!.sha256);
    const history = (await get('/docs/cps-history.md')).body.toString('utf8');
    const today = (d: string) => d.slice(0, 10);
    assert.match(
      history,
      new RegExp(
        `\\| 5\\.12 \\| ${today(byVersion.get('5.12')!.publishedAt!)} \\| non-critical \\| Overall revision of the descriptions and styles \\|`,
      ),
    );
    assert.match(history, /\| 5\.13 \| [\d-]+ \| non-critical \| Typographical corrections in 1\.5\.2 \|/);
    assert.match(
      history,
      /\| 6\.00 \| [\d-]+ \| critical \| OCSP \\\| CRL: new revocation rules \|/,
      'a table cell cannot be broken by the description',
    );
    assert.ok(history.includes(sha256(cpsText)));
    assert.equal((await get('/docs/cps-v7.00.md')).status, 404);

    const page = (await get('/')).body.toString('utf8');
    const docs = page.slice(page.indexOf('<h2 id="docs">'));
    assert.match(docs, /<a href="\/docs\/cps\.md">current version \(6\.00\)<\/a>/);
    assert.match(docs, /<a href="\/docs\/cps-history\.md">version history<\/a>/);
    assert.match(docs, /6\.00 \(current\)[\s\S]*critical \(major\)[\s\S]*5\.13[\s\S]*5\.12/);
    assert.ok(docs.includes(sha256(cpsText)));

    // Offline too: the file verifies against the root, and the latest copy is checked against its version.
    const pub = verifyPublication(readFileSync(pubFile(2)), {
      trustAnchors: [readFileSync(join(dir, 'ecc-rootca1.der'))],
      now: clock.now(),
    });
    assert.deepEqual(
      pub.documents.map((d) => [d.role, d.meta.version]),
      [
        ['version', '5.12'],
        ['version', '5.13'],
        ['version', '6.00'],
        ['latest', '6.00'],
        ['history', '6.00'],
      ],
    );
    assert.equal((pub.documents[0]!.meta as DocumentMeta).claimsUntil, byVersion.get('5.12')!.claimsUntil);
  });

  story('the CA status (cas.status) goes into the publication and onto the Repository page', () => {
    const statusInPublication = () => gatherPublication(inst, 99).input.cas[0]!.meta.status;
    assert.equal(statusInPublication(), 'active');
    const setStatus = (s: string) => inst.db.prepare("UPDATE cas SET status = ? WHERE name = 'ecc-rootca1'").run(s);
    try {
      setStatus('termination-announced');
      assert.equal(statusInPublication(), 'active', 'an announced termination is still an active CA');
      setStatus('terminated');
      assert.equal(statusInPublication(), 'terminated');
      setStatus('compromised');
      assert.equal(statusInPublication(), 'compromised');
    } finally {
      setStatus('active');
    }
    const pub = verifyPublication(readFileSync(pubFile(2)), {
      trustAnchors: [readFileSync(join(dir, 'ecc-rootca1.der'))],
      now: clock.now(),
    });
    const row = (html: string) =>
      html.slice(
        html.indexOf('<th scope="row">ecc-rootca1</th>'),
        html.indexOf('</tr>', html.indexOf('<th scope="row">ecc-rootca1</th>')),
      );
    assert.match(row(renderRepositoryPage(pub, { ocspUrl: 'http://x/ocsp' })), /<span class="good">Active<\/span>/);
    pub.cas.get('ecc-rootca1')!.meta.status = 'terminated';
    assert.match(
      row(renderRepositoryPage(pub, { ocspUrl: 'http://x/ocsp' })),
      /<span class="revoked">Terminated<\/span> \(CPS 5\.8/,
    );
  });

  story(
    'after the week: 5.12 with a claim is disputed, the others accepted; a late claim is refused and audited',
    async () => {
      clock.set(new Date(Date.parse(cps()[0]!.claimsUntil!) + 1000));
      await refused(
        recordClaim(inst, { ...by('ravi'), name: 'cps', version: '5.12', claimant: 'Late Corp', text: 'x' }),
        'CLAIM_PERIOD_OVER',
        /ended at/,
      );
      assert.equal(lastAudit().outcome, 'refused');
      assert.equal(cps()[0]!.claims.length, 1, 'the late claim left nothing');
      assert.deepEqual(
        cps().map((v) => v.status),
        ['disputed', 'published-in-claim-period', 'published-in-claim-period'],
      );
      await recordClaim(inst, {
        ...by('ravi'),
        name: 'cps',
        claimant: 'Relying Party Ltd',
        text: "still within 6.00's week",
      });
      clock.set(new Date(Date.parse(cps()[2]!.claimsUntil!) + 1000));
      assert.deepEqual(
        cps().map((v) => v.status),
        ['disputed', 'accepted', 'disputed'],
      );
      assert.equal(inst.audit.verify().ok, true);
    },
  );

  story('the CLI (on the system clock: still in the claim periods): doc list/show, a usage error', () => {
    const home = inst.home;
    const list = rootca(['--home', home, 'doc', 'list']);
    assert.equal(list.status, 0, list.stderr);
    assert.match(
      list.stdout,
      /cps 5\.12: published-in-claim-period \(claims until [^)]+\) — non-critical: Overall revision/,
    );
    assert.match(
      list.stdout,
      /cps 6\.00: published-in-claim-period \(claims until [^)]+\) — critical: OCSP \| CRL: new revocation rules\n/,
    );
    assert.match(list.stdout, /cp-subca amendment #\d+: rejected/);
    const show = rootca(['--home', home, 'doc', 'show', 'cps']);
    assert.match(show.stdout, /claim #1 by Example Corp <pki@example\.jp> \(recorded .* by rita\): section 4\.9/);
    const text = rootca(['--home', home, 'doc', 'show', 'cps', '--text', '--version', '5.12']);
    assert.equal(text.stdout, cpsText.toString('utf8'));
    const f = join(dir, 'new.md');
    writeFileSync(f, '# x\n');
    const u = rootca([
      '--home',
      home,
      'doc',
      'propose',
      '--name',
      'cps',
      '--file',
      f,
      '--description',
      'd',
      '--by',
      'paula',
    ]);
    assert.equal(u.status, 2);
    assert.match(u.stderr, /exactly one of --critical and --non-critical/);
  });
});

describe('R-10.1 verifying the documents of a publication (signed by a test root)', () => {
  let f: OnlineFixture;
  let base: Buffer;
  before(async () => {
    f = new OnlineFixture();
    base = await f.publication({ version: 1 });
  });

  /** Adds document items (re-signing the manifest with the fixture's RSA root) and verifies. */
  const withDocs = (docs: { path: string; text: string; meta: DocumentMeta }[]) => {
    const file = JSON.parse(base.toString('utf8')) as PublicationFile;
    const m = JSON.parse(file.manifest) as Manifest;
    for (const d of docs) {
      const bytes = Buffer.from(d.text, 'utf8');
      m.items.push({
        path: d.path,
        kind: 'document',
        mediaType: 'text/markdown; charset=utf-8',
        sha256: sha256(bytes),
        size: bytes.length,
        meta: d.meta,
      });
      file.files[d.path] = bytes.toString('base64');
    }
    file.manifest = canonicalJson(m);
    file.signature = sign(
      'sha256',
      Buffer.from(file.manifest, 'utf8'),
      f.delegated.get(f.rsa.name)!.publication.key,
    ).toString('base64');
    return verifyPublication(Buffer.from(JSON.stringify(file)), {
      trustAnchors: [f.rsa.der, f.ec.der],
      now: new Date(),
    });
  };
  const v512 = '# Certification Practice Statement\n\nVersion 5.12.\n';
  const title = 'Certification Practice Statement';

  it('a latest copy equal to the newest version and a history of the newest version verify', () => {
    const pub = withDocs([
      { path: 'docs/cps.md', text: v512, meta: { title, version: '5.12', role: 'latest' } },
      { path: 'docs/cps-history.md', text: '# history\n', meta: { title, version: '5.12', role: 'history' } },
    ]);
    assert.deepEqual(
      pub.documents.filter((d) => d.name === 'cps').map((d) => [d.role, d.meta.version]),
      [
        ['version', '5.11'],
        ['version', '5.12'],
        ['latest', '5.12'],
        ['history', '5.12'],
      ],
    );
  });

  const refusedWith = (docs: Parameters<typeof withDocs>[0], message: RegExp) =>
    assert.throws(
      () => withDocs(docs),
      (e: unknown) => {
        assert.ok(e instanceof CaError);
        assert.equal(e.code, 'PUBLICATION_INVALID');
        assert.match(e.message, message);
        return true;
      },
    );

  it('refused: the stable URL serving an older text, a history of an older version, a latest without versions, a path that does not fit its role', () => {
    refusedWith(
      [
        {
          path: 'docs/cps.md',
          text: '# Certification Practice Statement\n\nVersion 5.11.\n',
          meta: { title, version: '5.12', role: 'latest' },
        },
      ],
      /docs\/cps\.md is not the same text as docs\/cps-v5\.12\.md/,
    );
    refusedWith(
      [
        {
          path: 'docs/cps.md',
          text: '# Certification Practice Statement\n\nVersion 5.11.\n',
          meta: { title, version: '5.11', role: 'latest' },
        },
      ],
      /speaks of version 5\.11, the newest published is 5\.12/,
    );
    refusedWith(
      [{ path: 'docs/cps-history.md', text: '# h\n', meta: { title, version: '5.11', role: 'history' } }],
      /speaks of version 5\.11/,
    );
    refusedWith(
      [{ path: 'docs/cp-tsa.md', text: '# x\n', meta: { title, version: '1.00', role: 'latest' } }],
      /newest published is none/,
    );
    refusedWith(
      [{ path: 'docs/cps-latest.md', text: v512, meta: { title, version: '5.12', role: 'history' } }],
      /is not docs\/<name>-history\.md/,
    );
  });
});
