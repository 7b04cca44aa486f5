/**
 * Issue 14 item 4: the state tables answer to the audit log. Regression: deleting a row from
 * `certificates` in the SQLite file left `audit verify` OK and `cert list` one short. Each
 * tampering here must be reported by `audit verify --state`, naming the row and the event.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { verifyAuditState } from '../src/records/audit-state.ts';
import type { Installation } from '../src/installation/installation.ts';
import { issueCertificate } from '../src/issuance/issuance.ts';
import { issueCrl } from '../src/status/ceremonies.ts';
import { csr } from './archive-fixtures.ts';
import { allPassphrases, installationWithPeople, passphraseMap, runShippedCeremony, tempDir } from './helpers.ts';

describe('issue 14 item 4: audit verify --state cross-checks the state tables against the log', () => {
  let inst: Installation;
  let serial: string;
  const people = () => ({ operator: 'alice', witness: 'olivia', passphrases: passphraseMap(allPassphrases()) });

  before(async () => {
    const dir = tempDir();
    inst = installationWithPeople({ dir });
    await runShippedCeremony(inst, 'ecc-rootca1', dir);
    serial = (
      await issueCertificate(inst, { ...people(), caName: 'ecc-rootca1', profile: 'ocsp', csr: csr('state check') })
    ).serialHex;
    await issueCrl(inst, { ...people(), caName: 'ecc-rootca1' });
  });

  /** Runs `tamper` in a transaction that is rolled back after the check, so each case starts clean. */
  function checkAfter(tamper: () => void) {
    inst.db.pragma('foreign_keys = OFF');
    inst.db.exec('SAVEPOINT tamper');
    try {
      tamper();
      return verifyAuditState(inst);
    } finally {
      inst.db.exec('ROLLBACK TO tamper');
      inst.db.exec('RELEASE tamper');
      inst.db.pragma('foreign_keys = ON');
    }
  }

  it('an untouched installation verifies: every row has its event and every event its row', () => {
    const r = verifyAuditState(inst);
    assert.equal(r.ok, true, JSON.stringify(r.state.mismatches));
    assert.equal(r.state.checked.certificates!.rows, 2);
    assert.equal(r.state.checked.crls!.rows, 1);
    assert.equal(r.state.checked.operators!.rows, 4);
  });

  const cases: { name: string; tamper: (serial: string) => string; row: RegExp; event: RegExp }[] = [
    {
      name: 'a certificate row deleted',
      tamper: (s) => `DELETE FROM certificates WHERE serial_hex = '${s}'`,
      row: /no certificates row/,
      event: /event #\d+ certificate\.issue ecc-rootca1/,
    },
    {
      name: 'a revocation row added without its event',
      tamper: (s) =>
        `INSERT INTO revocations (certificate_id, issuer_ca_id, serial_hex, revoked_at, reason, source, operator, recorded_at) SELECT id, issuer_ca_id, serial_hex, '2026-01-01T00:00:00Z', 'keyCompromise', 'ca', 'mallory', '2026-01-01T00:00:00Z' FROM certificates WHERE serial_hex = '${s}'`,
      row: /revocations of certificate #\d+ \(ecc-rootca1 serial /,
      event: /\(no event\)/,
    },
    { name: 'a CRL row deleted', tamper: () => 'DELETE FROM crls', row: /no crls row/, event: /crl\.issued/ },
    {
      name: 'an operator row deleted',
      tamper: () => "DELETE FROM operators WHERE name = 'carol'",
      row: /no operators row/,
      event: /operator\.add carol/,
    },
    {
      name: 'a key row added without its event',
      tamper: () =>
        "INSERT INTO ca_keys (key_id, store, algorithm, public_key_spki, threshold, created_at) VALUES ('planted-key', 'soft', 'x', x'00', 2, 'now')",
      row: /ca_keys planted-key/,
      event: /\(no event\)/,
    },
  ];
  for (const c of cases) {
    it(`${c.name}: reported with both sides named`, () => {
      const r = checkAfter(() => inst.db.exec(c.tamper(serial)));
      assert.equal(r.ok, false);
      assert.equal(r.chain.ok, true, 'the hash chain alone does not see it');
      assert.ok(
        r.state.mismatches.some((m) => c.row.test(m.row) && c.event.test(m.event)),
        JSON.stringify(r.state.mismatches),
      );
    });
  }

  it('the check is itself audited', () => {
    verifyAuditState(inst);
    assert.equal(inst.audit.list().at(-1)!.action, 'audit.verify-state');
  });
});
