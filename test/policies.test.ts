/**
 * CPS 1.2 "The Services may add a new CP in the future": a new CP OID is registered for
 * a CA by the Person Responsible with a Service Operation Manager present, audited with both
 * signatures; the subordinate-CA profile then asserts it with no code change, and OpenSSL
 * accepts the issued certificate under that policy (`openssl verify -policy … -explicit_policy`).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import type { Installation } from '../src/installation/installation.ts';
import { issueCertificate } from '../src/issuance/issuance.ts';
import { listPolicies, registerPolicy } from '../src/issuance/policies.ts';
import { refused } from './refusals.ts';
import {
  allPassphrases,
  installationWithPeople,
  openssl,
  passphraseMap,
  rootca,
  run,
  runShippedCeremony,
  storyTests,
  tempDir,
} from './helpers.ts';
import { TLS_SUBCA } from './subca-purpose.ts';

const NEW_CP = '1.2.392.200091.100.902.9';
const passphrases = passphraseMap(allPassphrases());

describe('CPS 1.2 registered policies', () => {
  const dir = tempDir();
  let inst: Installation;
  const register = (over: Partial<Parameters<typeof registerPolicy>[1]> = {}) =>
    registerPolicy(inst, {
      caName: 'ecc-rootca1',
      purpose: 'subordinate-ca',
      oid: NEW_CP,
      name: 'ECC RootCA1 Subordinate CA Certificate Policy (2027)',
      by: 'paula',
      witness: 'olivia',
      passphrases,
      ...over,
    });
  const issueSub = (name: string, extraPolicyOids?: string[]) => {
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
      `/C=JP/O=Example/CN=${name}`,
    ]);
    return issueCertificate(inst, {
      operator: 'alice',
      witness: 'olivia',
      passphrases,
      caName: 'ecc-rootca1',
      profile: 'subca',
      ...TLS_SUBCA,
      csr: readFileSync(join(dir, `${name}.csr`)),
      extraPolicyOids: [...TLS_SUBCA.extraPolicyOids, ...(extraPolicyOids ?? [])],
    });
  };

  /** The policies of one CA: each test builds on the ones before it (storyTests runs them first when alone). */
  const story = storyTests();

  before(async () => {
    inst = installationWithPeople({ dir, more: true });
    inst.config.issuance.requireApplicationFor = [];
    await runShippedCeremony(inst, 'ecc-rootca1', dir);
  });
  after(() => inst?.close());

  story(
    'refusals: malformed, anyPolicy, BR-reserved, taken OIDs; wrong role; one person in both places; each audited, nothing stored',
    async () => {
      const before = listPolicies(inst).length;
      await refused(register({ oid: '1.2.392.0200091' }), 'POLICY_OID_INVALID', /not a dotted OID/);
      await refused(register({ oid: '1.40.3' }), 'POLICY_OID_INVALID', /below 40/);
      await refused(register({ oid: '2.5.29.32.0' }), 'POLICY_OID_INVALID', /anyPolicy/);
      await refused(register({ oid: '2.23.140.1.2.2' }), 'POLICY_OID_INVALID', /BR 7\.1\.6\.1/);
      await refused(
        register({ oid: '1.2.392.200091.100.902.2' }),
        'POLICY_EXISTS',
        /already registered for ecc-rootca1 \(time-stamping/,
      );
      await refused(register({ name: ' ' }), 'POLICY_NAME_REQUIRED');
      await refused(register({ caName: 'nosuchca' }), 'CA_UNKNOWN');
      await refused(register({ by: 'alice' }), 'ROLE_MISSING', /person-responsible/);
      await refused(register({ witness: 'rita' }), 'ROLE_MISSING', /operation-manager/);
      await refused(register({ witness: 'paula' }), 'SAME_PERSON_TWICE');
      await refused(
        register({ witness: 'oscar', passphrases: passphraseMap({ paula: allPassphrases().paula! }) }),
        'WITNESS_ABSENT',
      );
      assert.equal(listPolicies(inst).length, before);
      const refusals = inst.audit.list().filter((e) => e.action === 'policy.register' && e.outcome === 'refused');
      assert.ok(refusals.length >= 10, `refusals audited (${refusals.length})`);
      await refused(issueSub('early', [NEW_CP]), 'POLICY_NOT_REGISTERED', /register it first; CPS 1\.2/);
    },
  );

  story(
    'registered by the Person Responsible with a witness; a subordinate CA certificate then carries it and openssl verifies under that policy',
    async () => {
      const p = await register();
      assert.deepEqual([p.ca, p.purpose, p.oid, p.registeredBy], ['ecc-rootca1', 'subordinate-ca', NEW_CP, 'paula']);
      const ev = inst.audit.list().at(-1)!;
      assert.equal(ev.action, 'policy.register');
      assert.equal(ev.outcome, 'success');
      const parts = (ev.details as { participants: { operator: string; as: string; signature: string }[] })
        .participants;
      assert.deepEqual(
        parts.map((x) => [x.operator, x.as]),
        [
          ['paula', 'authoriser'],
          ['olivia', 'witness'],
        ],
      );
      assert.ok(parts.every((x) => x.signature.length > 40));
      await refused(register(), 'POLICY_EXISTS');

      const r = await issueSub('sub');
      const pem = join(dir, 'sub.pem');
      writeFileSync(pem, r.certificatePem);
      const text = openssl(['x509', '-in', pem, '-noout', '-text']);
      assert.match(
        text,
        /X509v3 Certificate Policies:\s*\n\s*Policy: 2\.23\.140\.1\.2\.2\s*\n\s*Policy: 1\.2\.392\.200091\.100\.902\.1\s*\n\s*Policy: 1\.2\.392\.200091\.100\.902\.9/,
      );
      const root = join(dir, 'ecc-rootca1.pem');
      const ok = openssl(['verify', '-CAfile', root, '-policy', NEW_CP, '-explicit_policy', '-policy_print', pem]);
      assert.match(ok, /: OK/);
      assert.match(ok, new RegExp(`Policy: ${NEW_CP.replaceAll('.', '\\.')}`));
      const other = run('openssl', [
        'verify',
        '-CAfile',
        root,
        '-policy',
        '1.2.392.200091.100.902.77',
        '-explicit_policy',
        pem,
      ]);
      assert.notEqual(other.status, 0, 'a policy the CA never registered is not in the certificate');
      assert.match(other.stdout + other.stderr, /no explicit policy/);
    },
  );

  story('the CLI: policy list names it and who registered it; a bad OID exits 1 with its code', () => {
    const list = rootca(['--home', inst.home, 'policy', 'list', '--ca', 'ecc-rootca1']);
    assert.equal(list.status, 0, list.stderr);
    assert.match(
      list.stdout,
      /ecc-rootca1 subordinate-ca 1\.2\.392\.200091\.100\.902\.1 \(registered .* by its root ceremony\)/,
    );
    assert.match(
      list.stdout,
      /ecc-rootca1 subordinate-ca 1\.2\.392\.200091\.100\.902\.9 "ECC RootCA1 Subordinate CA Certificate Policy \(2027\)" \(registered .* by paula\)/,
    );
    const bad = rootca([
      '--home',
      inst.home,
      'policy',
      'add',
      '--ca',
      'ecc-rootca1',
      '--oid',
      'not-an-oid',
      '--name',
      'x',
      '--by',
      'paula',
      '--witness',
      'olivia',
    ]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /\[POLICY_OID_INVALID\]/);
  });
});
