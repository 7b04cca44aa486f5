/**
 * `ocsp presign` is one access to the responder key (CPS 6.2.9, docs/hsm.md "One access"): one
 * activation bound to the approved batch, recorded once in the audit log and the transcript
 * with its signature count; every response it stored verifies with `openssl ocsp`.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Installation } from '../src/installation/installation.ts';
import { listIssued } from '../src/issuance/certificates.ts';
import { derToPem } from '../src/pki/pem.ts';
import { presignOcsp } from '../src/status/ceremonies.ts';
import {
  allPassphrases,
  installationWithPeople,
  openssl,
  passphraseMap,
  runShippedCeremony,
  setUpDelegatedKeys,
  tempDir,
} from './helpers.ts';

const CA = 'ecc-rootca1';

describe('ocsp presign: one activation for the approved batch', () => {
  const dir = tempDir('rootca-presign-batch-');
  let inst: Installation;
  let responderKeyId: string;
  let rootPem: string;
  before(async () => {
    inst = installationWithPeople({ dir });
    rootPem = (await runShippedCeremony(inst, CA, dir)).certificatePem;
    responderKeyId = (await setUpDelegatedKeys(inst, CA, ['ocsp']))[0]!.keyId;
  });
  after(() => inst.close());

  it('activates the responder key once, signs every response of the plan, and records the count', async () => {
    const since = inst.audit.head().seq;
    const people = { operator: 'alice', witness: 'olivia', passphrases: passphraseMap(allPassphrases()) };
    const r = await presignOcsp(inst, { caName: CA, ...people });
    assert.equal(r.responses, r.certificates * 2);
    assert.ok(r.certificates >= 1, 'the responder certificate at least');
    const events = inst.audit.list().filter((e) => e.seq > since);
    const activations = events.filter((e) => e.action === 'key.activate');
    assert.equal(activations.length, 1, 'one activation for the batch');
    assert.deepEqual(
      [activations[0]!.outcome, activations[0]!.details.keyId, activations[0]!.details.batch],
      ['success', responderKeyId, r.responses],
    );
    const deactivations = events.filter((e) => e.action === 'key.deactivate');
    assert.equal(deactivations.length, 1);
    assert.deepEqual(
      [deactivations[0]!.outcome, deactivations[0]!.details.signatures, deactivations[0]!.details.batch],
      ['success', r.responses, r.responses],
    );
    const transcript = JSON.parse(readFileSync(r.transcriptFile, 'utf8'));
    const details = transcript.details ?? transcript.transcript?.details;
    assert.deepEqual([details.keyActivations, details.keySignatures], [1, r.responses]);

    const root = join(dir, 'root.pem');
    const rows = inst.db
      .prepare(
        'SELECT o.der, o.hash_algorithm, x.serial_hex FROM ocsp_responses o JOIN certificates x ON x.id = o.certificate_id',
      )
      .all() as { der: Buffer; hash_algorithm: string; serial_hex: string }[];
    assert.equal(rows.length, r.responses);
    const issued = new Map(listIssued(inst, CA).map((c) => [c.serialHex, c.der]));
    writeFileSync(root, rootPem);
    for (const row of rows) {
      const resp = join(dir, `resp-${row.serial_hex}-${row.hash_algorithm}.der`);
      const cert = join(dir, `cert-${row.serial_hex}.pem`);
      writeFileSync(resp, row.der);
      writeFileSync(cert, derToPem(issued.get(row.serial_hex)!, 'CERTIFICATE'));
      const sha = row.hash_algorithm === 'sha256' ? ['-sha256'] : [];
      const out = openssl([
        'ocsp',
        '-respin',
        resp,
        '-issuer',
        root,
        ...sha,
        '-cert',
        cert,
        '-CAfile',
        root,
        '-no_nonce',
      ]);
      assert.match(out, /Response verify OK/);
      assert.match(out, /: good/);
    }
  });
});
