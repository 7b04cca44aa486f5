/**
 * R-5 people and procedure: the permission table is enforced for every (role, operation)
 * pair; separation of duties holds even for someone who somehow holds every role; the RA
 * workflow runs end to end; personnel records gate who may take part; transcripts verify.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  approveApplication,
  getApplication,
  recordAcceptance,
  rejectApplication,
  submitApplication,
} from '../src/issuance/applications.ts';
import { appointOperator, changePersonnel } from '../src/people/appointments.ts';
import { readAuditLog } from '../src/records/audit-access.ts';
import { issueCertificate, issueFromApplication } from '../src/issuance/issuance.ts';
import type { Installation } from '../src/installation/installation.ts';
import { addOperator, getOperator } from '../src/people/operators.ts';
import { bringParticipant, operationDigest } from '../src/people/participants.ts';
import { OPERATIONS, INCOMPATIBLE_ROLES, type Operation, type Slot } from '../src/people/permissions.ts';
import { ROLES, type Role } from '../src/people/roles.ts';
import { runRootCeremony } from '../src/lifecycle/root-ceremony.ts';
import { verifyTranscript } from '../src/records/transcript.ts';
import { fixedClock } from '../src/clock.ts';
import { parseRootCeremony } from '../src/config/ceremony.ts';
import { CaError } from '../src/errors.ts';
import {
  allPassphrases,
  installationWithPeople,
  openssl,
  passphraseMap,
  rejectsWith,
  REPO,
  rootca,
  runShippedCeremony,
  tempDir,
} from './helpers.ts';
import { TLS_SUBCA } from './subca-purpose.ts';

function csr(dir: string, name: string, subject: string): Buffer {
  openssl([
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    join(dir, `${name}.key`),
    '-out',
    join(dir, `${name}.csr`),
    '-subj',
    subject,
  ]);
  return readFileSync(join(dir, `${name}.csr`));
}

/** Gives a person roles behind the program's back (as a tampered database would). */
function forceRoles(inst: Installation, name: string, roles: Role[]) {
  const op = getOperator(inst, name);
  for (const r of roles)
    if (!op.roles.includes(r))
      inst.db
        .prepare("INSERT INTO operator_roles (operator_id, role, assigned_at) VALUES (?, ?, 'forced')")
        .run(op.id, r);
}

describe('R-5.1 every (role, operation) pair against the permission table', () => {
  const dir = tempDir();
  const inst = installationWithPeople({ dir });
  const today = inst.clock.now().toISOString().slice(0, 10);
  const holder: Record<string, string> = {};
  for (const role of Object.keys(ROLES) as Role[]) {
    const name = `only-${role}`;
    addOperator(inst, {
      name,
      roles: [role],
      kind: 'ed25519',
      passphrase: Buffer.from(`${name} passphrase`),
      trainedOn: today,
      backgroundCheckedOn: today,
    });
    holder[role] = name;
  }
  const source = passphraseMap(Object.fromEntries(Object.values(holder).map((n) => [n, `${n} passphrase`])));

  for (const [operation, rule] of Object.entries(OPERATIONS) as [Operation, { slots: Partial<Record<Slot, Role>> }][]) {
    for (const [slot, needed] of Object.entries(rule.slots) as [Slot, Role][]) {
      for (const role of Object.keys(ROLES) as Role[]) {
        const allowed = role === needed;
        it(`${role} as ${slot} of ${operation}: ${allowed ? 'allowed' : 'refused'}`, async () => {
          const person = holder[role];
          const digest = operationDigest({ kind: operation, slot });
          if (allowed) {
            const p = await bringParticipant(inst, person, source, 'test', digest, { operation, slot });
            assert.ok(p);
            p.credential.lock();
          } else {
            await rejectsWith(
              'ROLE_MISSING',
              () => bringParticipant(inst, person, source, 'test', digest, { operation, slot }),
              new RegExp(`needs the ${needed} role`),
            );
            const ev = inst.audit.list().at(-1)!;
            assert.equal(ev.action, operation);
            assert.equal(ev.outcome, 'refused');
            assert.equal((ev.details as { code: string }).code, 'ROLE_MISSING');
          }
        });
      }
    }
  }

  it('refuses incompatible role combinations at appointment and assignment (CPS 5.2.4)', async () => {
    for (const [a, b] of INCOMPATIBLE_ROLES) {
      assert.throws(
        () =>
          addOperator(inst, {
            name: `combo-${a}-${b}`.slice(0, 60),
            roles: [a, b],
            kind: 'ed25519',
            passphrase: Buffer.from('combo passphrase 1'),
          }),
        (e: unknown) => e instanceof CaError && e.code === 'ROLE_COMBINATION_FORBIDDEN',
      );
    }
    addOperator(inst, {
      name: 'ra-and-admin',
      roles: ['ra-officer', 'ca-administrator'],
      kind: 'ed25519',
      passphrase: Buffer.from('combo passphrase 2'),
    });
  });
});

describe('R-5.2 separation of duties and two-person control', () => {
  it('one person holding every role still cannot issue alone', async (t) => {
    const dir = tempDir();
    const inst = installationWithPeople({ dir, more: true });
    t.after(() => inst.close()); // closed whether the test passes or not
    inst.config.issuance.requireApplicationFor = [];
    const today = inst.clock.now().toISOString().slice(0, 10);
    addOperator(inst, {
      name: 'max',
      roles: ['ca-administrator'],
      kind: 'ed25519',
      passphrase: Buffer.from('max has every role'),
      trainedOn: today,
      backgroundCheckedOn: today,
    });
    forceRoles(inst, 'max', Object.keys(ROLES) as Role[]);
    const file = join(dir, 'max.yaml');
    writeFileSync(
      file,
      readFileSync(join(REPO, 'ceremonies', 'ecc-rootca1.yaml'), 'utf8').replace(
        'holders: [alice, bob, carol]',
        'holders: [max, bob, carol]',
      ),
    );
    await runRootCeremony(inst, {
      ceremony: parseRootCeremony(readFileSync(file), file),
      baseDir: dir,
      passphrases: passphraseMap(allPassphrases()),
    });
    const alone = passphraseMap({ max: 'max has every role' });
    const request = csr(dir, 'alone', '/C=JP/O=X/CN=Alone');
    const attempt = (witness: string) =>
      issueCertificate(inst, {
        operator: 'max',
        witness,
        caName: 'ecc-rootca1',
        profile: 'ocsp',
        csr: request,
        passphrases: alone,
      });
    await rejectsWith('SAME_PERSON_TWICE', () => attempt('max'), /operator and witness/);
    await rejectsWith('WITNESS_ABSENT', () => attempt('olivia'));
    // Even with a real witness present, max's one share is not a quorum.
    await rejectsWith(
      'QUORUM_NOT_MET',
      () =>
        issueCertificate(inst, {
          operator: 'max',
          witness: 'olivia',
          caName: 'ecc-rootca1',
          profile: 'ocsp',
          csr: request,
          passphrases: passphraseMap({ max: 'max has every role', olivia: allPassphrases().olivia }),
        }),
      /1 present \(max\)/,
    );
    assert.equal(
      inst.audit.list().filter((e) => e.action === 'key.activate' && e.outcome === 'success').length,
      1,
      'only the ceremony activated a key',
    );
  });

  it('a witness who is also a custodian does not count twice', async (t) => {
    const dir = tempDir();
    const inst = installationWithPeople({ dir, more: true });
    t.after(() => inst.close()); // closed whether the test passes or not
    inst.config.issuance.requireApplicationFor = [];
    forceRoles(inst, 'olivia', ['ca-administrator']);
    const file = join(dir, 'w.yaml');
    writeFileSync(
      file,
      readFileSync(join(REPO, 'ceremonies', 'ecc-rootca1.yaml'), 'utf8')
        .replace('holders: [alice, bob, carol]', 'holders: [alice, olivia, carol]')
        .replace('witness: olivia', 'witness: oscar'),
    );
    await runRootCeremony(inst, {
      ceremony: parseRootCeremony(readFileSync(file), file),
      baseDir: dir,
      passphrases: passphraseMap(allPassphrases()),
    });
    const pass = allPassphrases();
    await rejectsWith(
      'QUORUM_NOT_MET',
      () =>
        issueCertificate(inst, {
          operator: 'alice',
          witness: 'olivia',
          caName: 'ecc-rootca1',
          profile: 'ocsp',
          csr: csr(dir, 'w', '/C=JP/O=X/CN=W'),
          passphrases: passphraseMap({ alice: pass.alice, olivia: pass.olivia }),
        }),
      /needs 2 of 3 custodians, 1 present \(alice\)/,
    );
  });

  it('the approver cannot issue their own approval; the submitter cannot approve', async (t) => {
    const dir = tempDir();
    const inst = installationWithPeople({ dir, more: true });
    t.after(() => inst.close()); // closed whether the test passes or not
    await runShippedCeremony(inst, 'rootca2', dir);
    const source = passphraseMap(allPassphrases());
    forceRoles(inst, 'ravi', ['ca-administrator']); // an allowed combination, but never on both sides of one operation
    const app = await submitApplication(inst, {
      by: 'rita',
      passphrases: source,
      caName: 'rootca2',
      profile: 'subca',
      csr: csr(dir, 'sep', '/C=JP/O=Example/CN=Example Sub CA'),
      applicantOrganisation: 'Example',
      applicantContact: 'pki@example.jp',
      requested: TLS_SUBCA,
    });
    await rejectsWith(
      'SAME_PERSON_TWICE',
      () =>
        approveApplication(inst, {
          id: app.id,
          by: 'rita',
          passphrases: source,
          identification: { documentType: 'registry', reference: 'R-1' },
        }),
      /approver and submitter/,
    );
    await approveApplication(inst, {
      id: app.id,
      by: 'ravi',
      passphrases: source,
      identification: { documentType: 'registry', reference: 'R-1' },
    });
    await rejectsWith(
      'SAME_PERSON_TWICE',
      () =>
        issueFromApplication(inst, { applicationId: app.id, operator: 'ravi', witness: 'olivia', passphrases: source }),
      /operator and approver/,
    );
    assert.equal(getApplication(inst, app.id).state, 'approved');
  });

  it('subscriber certificates need an approved application (R-3.5)', async (t) => {
    const dir = tempDir();
    const inst = installationWithPeople({ dir });
    t.after(() => inst.close()); // closed whether the test passes or not
    await runShippedCeremony(inst, 'rootca2', dir);
    await rejectsWith('APPLICATION_REQUIRED', () =>
      issueCertificate(inst, {
        operator: 'alice',
        witness: 'olivia',
        caName: 'rootca2',
        profile: 'subca',
        ...TLS_SUBCA,
        csr: csr(dir, 'direct', '/C=JP/O=X/CN=Direct'),
        passphrases: passphraseMap(allPassphrases()),
      }),
    );
  });
});

describe('R-3.5 the application workflow from a fresh installation', () => {
  it('submit -> approve -> issue -> accept; openssl verifies; the audit log and the transcript verify', async () => {
    const dir = tempDir();
    const inst = installationWithPeople({ dir, more: true });
    await runShippedCeremony(inst, 'rootca2', dir);
    const source = passphraseMap(allPassphrases());
    const request = csr(dir, 'flow', '/C=JP/O=Example Trust/CN=Example Trust Sub CA');
    const app = await submitApplication(inst, {
      by: 'rita',
      passphrases: source,
      caName: 'rootca2',
      profile: 'subca',
      csr: request,
      applicantOrganisation: 'Example Trust',
      applicantContact: 'Hanako Yamada <pki@example.jp>',
      requested: { pathLenConstraint: 0, validityDays: 1825, ...TLS_SUBCA },
    });
    assert.equal(app.state, 'submitted');
    await rejectsWith(
      'APPLICATION_STATE',
      () =>
        issueFromApplication(inst, {
          applicationId: app.id,
          operator: 'alice',
          witness: 'olivia',
          passphrases: source,
        }),
      /is submitted; it cannot be issued/,
    );
    await rejectsWith('IDENTIFICATION_REQUIRED', () =>
      approveApplication(inst, { id: app.id, by: 'ravi', passphrases: source }),
    );
    const approved = await approveApplication(inst, {
      id: app.id,
      by: 'ravi',
      passphrases: source,
      identification: { documentType: 'certificate of registered matters', reference: '0100-01-123456' },
    });
    assert.equal(approved.identification?.checkedBy, 'ravi');
    await rejectsWith(
      'APPLICATION_STATE',
      () => rejectApplication(inst, { id: app.id, by: 'ravi', passphrases: source, reason: 'late' }),
      /is approved; it cannot be rejected/,
    );
    await rejectsWith(
      'APPLICATION_STATE',
      () => recordAcceptance(inst, { id: app.id, by: 'rita', passphrases: source }),
      /is approved/,
    );

    const issued = await issueFromApplication(inst, {
      applicationId: app.id,
      operator: 'alice',
      witness: 'olivia',
      passphrases: source,
      outPem: join(dir, 'flow.pem'),
    });
    assert.equal(getApplication(inst, app.id).state, 'issued');
    assert.equal(getApplication(inst, app.id).certificateId, issued.certificateId);
    assert.match(openssl(['verify', '-x509_strict', '-CAfile', join(dir, 'rootca2.pem'), join(dir, 'flow.pem')]), /OK/);
    assert.match(openssl(['x509', '-in', join(dir, 'flow.pem'), '-noout', '-text']), /pathlen:0/);
    await rejectsWith(
      'APPLICATION_STATE',
      () =>
        issueFromApplication(inst, {
          applicationId: app.id,
          operator: 'alice',
          witness: 'olivia',
          passphrases: source,
        }),
      /is issued/,
    );

    const accepted = await recordAcceptance(inst, {
      id: app.id,
      by: 'rita',
      passphrases: source,
      note: 'signed acceptance form received',
    });
    assert.equal(accepted.state, 'accepted');
    assert.equal(inst.audit.verify().ok, true);
    const actions = inst.audit.list().map((e) => `${e.action}:${e.outcome}`);
    for (const a of [
      'application.submit:success',
      'application.approve:success',
      'certificate.issue:success',
      'application.accept:success',
    ])
      assert.ok(actions.includes(a), a);
    const issueEvent = inst.audit.list().find((e) => e.action === 'certificate.issue' && e.outcome === 'success')!;
    const parts = (issueEvent.details as { participants: { operator: string; as: string; signature: string }[] })
      .participants;
    assert.deepEqual(
      parts.map((p) => `${p.operator}/${p.as}`),
      ['alice/operator', 'olivia/witness', 'bob/custodian'].map((x, i) => (i === 0 ? 'alice/operator+custodian' : x)),
    );

    // The transcript verifies offline, and against the installation's registered keys.
    const t = JSON.parse(readFileSync(issued.transcriptFile, 'utf8'));
    assert.equal(verifyTranscript(t).ok, true, JSON.stringify(verifyTranscript(t).problems));
    const cli = rootca([
      '--home',
      inst.home,
      'transcript',
      'verify',
      issued.transcriptFile,
      '--against-installation',
      '--output',
      `certificate ${issued.serialHex}.der=${join(dir, 'flow.der')}`,
    ]);
    assert.equal(cli.status, 2, 'a missing output file is a usage error');
    writeFileSync(join(dir, 'flow.der'), issued.certificateDer);
    const ok = rootca([
      '--home',
      inst.home,
      'transcript',
      'verify',
      issued.transcriptFile,
      '--against-installation',
      '--output',
      `certificate ${issued.serialHex}.der=${join(dir, 'flow.der')}`,
    ]);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /transcript OK/);
    t.details.subject = 'C=JP, O=Mallory';
    const tampered = join(dir, 'tampered.json');
    writeFileSync(tampered, JSON.stringify(t));
    const bad = rootca(['transcript', 'verify', tampered]);
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /transcript signature does not verify/);
    assert.match(
      readFileSync(issued.transcriptFile.replace(/\.json$/, '.md'), 'utf8'),
      /\| alice \| operator\+custodian \|/,
    );
    inst.close();
  });

  it('a rejection needs a reason, and a rejected application cannot be issued', async (t) => {
    const dir = tempDir();
    const inst = installationWithPeople({ dir, more: true });
    t.after(() => inst.close()); // closed whether the test passes or not
    await runShippedCeremony(inst, 'ecc-rootca1', dir);
    const source = passphraseMap(allPassphrases());
    const app = await submitApplication(inst, {
      by: 'rita',
      passphrases: source,
      caName: 'ecc-rootca1',
      profile: 'subca',
      csr: csr(dir, 'rej', '/C=JP/O=X/CN=Rejected Sub CA'),
      applicantOrganisation: 'X',
      applicantContact: 'x@example.jp',
      requested: TLS_SUBCA,
    });
    await rejectsWith('REASON_REQUIRED', () =>
      rejectApplication(inst, { id: app.id, by: 'ravi', passphrases: source }),
    );
    await rejectApplication(inst, {
      id: app.id,
      by: 'ravi',
      passphrases: source,
      reason: 'identity could not be confirmed',
    });
    await rejectsWith(
      'APPLICATION_STATE',
      () =>
        issueFromApplication(inst, {
          applicationId: app.id,
          operator: 'alice',
          witness: 'olivia',
          passphrases: source,
        }),
      /is rejected/,
    );
  });
});

describe('R-5.3 personnel records gate who may take part', () => {
  it('after bootstrap, changes need a Person Responsible and a witness; nobody changes their own record', async (t) => {
    const dir = tempDir();
    const inst = installationWithPeople({ dir, more: true });
    t.after(() => inst.close()); // closed whether the test passes or not
    const source = passphraseMap({ ...allPassphrases(), nina: 'nina new passphrase' });
    const today = inst.clock.now().toISOString().slice(0, 10);
    await assert.rejects(
      () =>
        appointOperator(
          inst,
          { name: 'nina', roles: ['ra-officer'], kind: 'ed25519', passphrase: Buffer.from('nina new passphrase') },
          { passphrases: source },
        ),
      /--by NAME/,
    );
    await rejectsWith(
      'ROLE_MISSING',
      () =>
        appointOperator(
          inst,
          { name: 'nina', roles: ['ra-officer'], kind: 'ed25519', passphrase: Buffer.from('nina new passphrase') },
          { authoriser: 'alice', witness: 'olivia', passphrases: source },
        ),
      /person-responsible/,
    );
    const nina = await appointOperator(
      inst,
      {
        name: 'nina',
        roles: ['ra-officer'],
        kind: 'ed25519',
        passphrase: Buffer.from('nina new passphrase'),
        trainedOn: today,
        backgroundCheckedOn: today,
      },
      { authoriser: 'paula', witness: 'olivia', passphrases: source },
    );
    assert.deepEqual(nina.roles, ['ra-officer']);
    await rejectsWith('SELF_CHANGE_REFUSED', () =>
      changePersonnel(
        inst,
        { kind: 'assign-role', operator: 'paula', role: 'improvement-committee' },
        { authoriser: 'paula', witness: 'olivia', passphrases: source },
      ),
    );
    await rejectsWith('ROLE_COMBINATION_FORBIDDEN', () =>
      changePersonnel(
        inst,
        { kind: 'assign-role', operator: 'alice', role: 'log-examiner' },
        { authoriser: 'paula', witness: 'olivia', passphrases: source },
      ),
    );
    // Job rotation: a role ends, another begins; the history keeps both.
    await changePersonnel(
      inst,
      { kind: 'end-role', operator: 'nina', role: 'ra-officer' },
      { authoriser: 'paula', witness: 'oscar', passphrases: source },
    );
    await changePersonnel(
      inst,
      { kind: 'assign-role', operator: 'nina', role: 'ca-administrator' },
      { authoriser: 'paula', witness: 'oscar', passphrases: source },
    );
    const rows = inst.db
      .prepare(
        "SELECT role, ended_at FROM operator_roles r JOIN operators o ON o.id = r.operator_id WHERE o.name = 'nina' ORDER BY r.id",
      )
      .all() as { role: string; ended_at: string | null }[];
    assert.deepEqual(
      rows.map((r) => [r.role, r.ended_at !== null]),
      [
        ['ra-officer', true],
        ['ca-administrator', false],
      ],
    );
  });

  it("a removed operator's credential no longer works", async (t) => {
    const dir = tempDir();
    const inst = installationWithPeople({ dir, more: true });
    t.after(() => inst.close()); // closed whether the test passes or not
    const source = passphraseMap(allPassphrases());
    await changePersonnel(
      inst,
      { kind: 'remove', operator: 'bob', reason: 'left the company' },
      { authoriser: 'paula', witness: 'olivia', passphrases: source },
    );
    await rejectsWith(
      'OPERATOR_REMOVED',
      () => bringParticipant(inst, 'bob', source, 'test', operationDigest({ kind: 'x' })),
      /bob was removed/,
    );
    await rejectsWith('OPERATOR_REMOVED', () =>
      runShippedCeremony(inst, 'ecc-rootca1', dir, {
        olivia: allPassphrases().olivia,
        bob: allPassphrases().bob,
        alice: allPassphrases().alice,
      }),
    );
  });

  it('stale training refuses a person until it is recorded again (CPS 5.3.3, 5.3.4)', async (t) => {
    const clock = fixedClock(new Date('2026-12-01T00:00:00Z'));
    const dir = tempDir();
    const inst = installationWithPeople({ dir, more: true, clock });
    t.after(() => inst.close()); // closed whether the test passes or not
    clock.advance(400 * 86_400_000);
    const source = passphraseMap(allPassphrases());
    await rejectsWith(
      'TRAINING_EXPIRED',
      () => runShippedCeremony(inst, 'ecc-rootca1', dir),
      /olivia was last trained on 2026-12-01.*retraining is due/,
    );
    // Personnel administration still works with stale training, so people can be brought back in date.
    const date = clock.now().toISOString().slice(0, 10);
    for (const n of ['alice', 'bob', 'olivia'])
      await changePersonnel(
        inst,
        { kind: 'training', operator: n, date },
        { authoriser: 'paula', witness: 'oscar', passphrases: source },
      );
    const made = await runShippedCeremony(inst, 'ecc-rootca1', dir);
    assert.deepEqual(made.custodians, ['alice', 'bob']);
  });
});

describe('R-7.2 only a Log Examiner reads the audit log', () => {
  it('refuses others, lets the examiner read, and records the read', async (t) => {
    const dir = tempDir();
    const inst = installationWithPeople({ dir, more: true });
    t.after(() => inst.close()); // closed whether the test passes or not
    const source = passphraseMap(allPassphrases());
    await rejectsWith(
      'ROLE_MISSING',
      () => readAuditLog(inst, { examiner: 'alice', passphrases: source }),
      /log-examiner/,
    );
    const events = await readAuditLog(inst, { examiner: 'leo', passphrases: source });
    assert.ok(events.length > 5);
    const last = inst.audit.list().at(-1)!;
    assert.equal(last.action, 'audit.read');
    assert.equal(last.actor, 'leo');
  });
});
