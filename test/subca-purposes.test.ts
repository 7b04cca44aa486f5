/**
 * Issue 15 item 4: sub-CAs by purpose and technically constrained sub-CAs, issued by a real
 * root and read by OpenSSL, GnuTLS certtool and python3 cryptography; every forbidden
 * combination refused with its rule named and nothing signed or stored.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Installation } from '../src/installation/installation.ts';
import { issueCertificate } from '../src/issuance/issuance.ts';
import type { IssueParams } from '../src/issuance/issuance-checks.ts';
import {
  allPassphrases,
  installationWithPeople,
  openssl,
  passphraseMap,
  rejectsWith,
  run,
  runShippedCeremony,
  tempDir,
} from './helpers.ts';

const ROOT = 'ecc-rootca1';

describe('sub-CA purposes and name constraints (Mozilla 5.3, BR 7.1.2.5, 7.1.2.10.5-6)', () => {
  const dir = tempDir();
  let inst: Installation;
  const f = (n: string) => join(dir, n);
  const csr = (name: string, subj = `/C=JP/O=Example Trust/CN=${name}`) => {
    openssl(
      ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'].concat([
        '-keyout',
        f(`${name}.key`),
        '-out',
        f(`${name}.csr`),
        '-subj',
        subj,
      ]),
    );
    return readFileSync(f(`${name}.csr`));
  };
  const issue = (name: string, p: Partial<IssueParams>) =>
    issueCertificate(inst, {
      operator: 'alice',
      witness: 'olivia',
      passphrases: passphraseMap(allPassphrases()),
      caName: ROOT,
      profile: 'subca',
      csr: csr(name),
      outPem: f(`${name}.pem`),
      pathLenConstraint: 0,
      ...p,
    });
  const stored = () => (inst.db.prepare('SELECT count(*) AS n FROM certificates').get() as { n: number }).n;
  const text = (name: string) => openssl(['x509', '-in', f(`${name}.pem`), '-noout', '-text']);
  const certtool = (name: string) => {
    const r = run('certtool', ['-i', '--infile', f(`${name}.pem`)]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };

  before(async () => {
    inst = installationWithPeople({ dir });
    inst.config.issuance.requireApplicationFor = []; // the RA workflow has its own tests
    await runShippedCeremony(inst, ROOT, dir);
  });

  it('a TLS sub-CA: serverAuth (+clientAuth), the reserved OV policy first, then the CP; OpenSSL verifies it', async () => {
    await issue('tls', {
      purpose: 'tls-server',
      extKeyUsage: ['1.3.6.1.5.5.7.3.2'],
      extraPolicyOids: ['2.23.140.1.2.2'],
    });
    const t = text('tls');
    assert.match(t, /X509v3 Extended Key Usage: \n\s*TLS Web Server Authentication, TLS Web Client Authentication/);
    assert.match(
      t,
      /Certificate Policies:\s*\n\s*Policy: 2\.23\.140\.1\.2\.2\s*\n\s*Policy: 1\.2\.392\.200091\.100\.902\.1/,
    );
    assert.match(openssl(['verify', '-x509_strict', '-CAfile', f(`${ROOT}.pem`), f('tls.pem')]), /: OK/);
    assert.match(certtool('tls'), /Key purpose \(not critical\):\s*\n\s*TLS WWW Server\.\s*\n\s*TLS WWW Client\./i);
  });

  it('an S/MIME sub-CA: emailProtection and an S/MIME reserved policy', async () => {
    await issue('smime', { purpose: 'smime', extraPolicyOids: ['2.23.140.1.5.2.2'] });
    const t = text('smime');
    assert.match(t, /X509v3 Extended Key Usage: \n\s*E-mail Protection\n/);
    assert.match(t, /Policy: 2\.23\.140\.1\.5\.2\.2/);
    assert.match(certtool('smime'), /Key purpose \(not critical\):\s*\n\s*Email protection\./i);
  });

  it('code signing, time stamping and document signing sub-CAs carry their key purpose', async () => {
    await issue('cs', { purpose: 'code-signing', extraPolicyOids: ['2.23.140.1.4.1'] });
    await issue('ts', { purpose: 'time-stamping' });
    await issue('doc', { purpose: 'document-signing' });
    assert.match(text('cs'), /Extended Key Usage: \n\s*Code Signing\n[\s\S]*Policy: 2\.23\.140\.1\.4\.1/);
    assert.match(text('ts'), /Extended Key Usage: \n\s*Time Stamping\n/);
    assert.match(text('doc'), /Extended Key Usage: \n\s*(1\.3\.6\.1\.5\.5\.7\.3\.36|Document Signing)\n/);
  });

  it('a technically constrained TLS sub-CA (BR 7.1.2.5.2): DNS, IPv4, directoryName permitted; IPv6 and a DNS label excluded', async () => {
    await issue('tcsc', {
      purpose: 'tls-server',
      extraPolicyOids: ['2.23.140.1.2.1'],
      permittedDnsNames: ['example.jp'],
      excludedDnsNames: ['secret.example.jp'],
      permittedIpRanges: ['192.0.2.0/24'],
      permittedDirectoryNames: ['C=JP, O=Example Trust'],
    });
    const t = text('tcsc');
    assert.match(t, /X509v3 Name Constraints: critical/);
    assert.match(
      t,
      /Permitted:\s*\n\s*DNS:example\.jp\s*\n\s*IP:192\.0\.2\.0\/255\.255\.255\.0\s*\n\s*DirName:C ?= ?JP, O ?= ?Example Trust/,
    );
    // "an iPAddress of 32 zero octets, indicating the IPv6 range of ::0/0 being excluded"
    assert.match(t, /Excluded:\s*\n\s*DNS:secret\.example\.jp\s*\n\s*IP:0:0:0:0:0:0:0:0\/0:0:0:0:0:0:0:0/);
    assert.match(certtool('tcsc'), /Name Constraints \(critical\):\s*\n\s*Permitted:\s*\n\s*DNSname: example\.jp/i);

    // The constraints bind: the sub-CA's leaf inside verifies, outside is refused by OpenSSL.
    const leaf = (name: string, san: string) => {
      writeFileSync(f(`${name}.ext`), `basicConstraints=critical,CA:FALSE\nsubjectAltName=${san}\n`);
      csr(name, `/C=JP/O=Example Trust/CN=${name}`);
      openssl(
        ['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('tcsc.pem'), '-CAkey', f('tcsc.key')].concat([
          '-set_serial',
          '0x51',
          '-days',
          '30',
          '-extfile',
          f(`${name}.ext`),
          '-out',
          f(`${name}.pem`),
        ]),
      );
      return run('openssl', ['verify', '-CAfile', f(`${ROOT}.pem`), '-untrusted', f('tcsc.pem'), f(`${name}.pem`)]);
    };
    assert.equal(leaf('inside', 'DNS:www.example.jp,IP:192.0.2.10').status, 0);
    const outside = leaf('outside', 'DNS:www.example.com');
    assert.notEqual(outside.status, 0);
    assert.match(outside.stdout + outside.stderr, /name constraint|permitted subtree/i);
    assert.notEqual(leaf('excluded', 'DNS:a.secret.example.jp').status, 0);
    assert.notEqual(leaf('v6', 'DNS:www.example.jp,IP:2001:db8::1').status, 0);

    // python3 cryptography reads the same constraints.
    const py = run('python3', [
      '-c',
      [
        'import sys',
        'from cryptography import x509',
        'c = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())',
        'nc = c.extensions.get_extension_for_class(x509.NameConstraints)',
        'print(nc.critical, [getattr(g.value, "rfc4514_string", lambda: str(g.value))() for g in nc.value.permitted_subtrees], [str(g.value) for g in nc.value.excluded_subtrees])',
      ].join('\n'),
      f('tcsc.pem'),
    ]);
    assert.equal(py.status, 0, py.stderr);
    assert.match(
      py.stdout,
      /^True \['example\.jp', '192\.0\.2\.0\/24', 'O=Example Trust,C=JP'\] \['secret\.example\.jp', '::\/0'\]/,
    );
  });

  it('an S/MIME sub-CA constrained to a mail domain and an IPv6 range (rfc822Name, 32-octet iPAddress)', async () => {
    await issue('smime-nc', {
      purpose: 'smime',
      extraPolicyOids: ['2.23.140.1.5.2.3'],
      permittedEmails: ['.example.jp', 'example.jp'],
      excludedEmails: ['ceo@example.jp'],
      permittedIpRanges: ['2001:db8::/32'],
    });
    const t = text('smime-nc');
    assert.match(
      t,
      /Permitted:\s*\n\s*IP:2001:DB8:0:0:0:0:0:0\/FFFF:FFFF:0:0:0:0:0:0\s*\n\s*email:\.example\.jp\s*\n\s*email:example\.jp/i,
    );
    assert.match(t, /Excluded:\s*\n\s*email:ceo@example\.jp/);
  });

  it('refuses, naming the rule, before anyone is asked for anything and with nothing stored', async () => {
    const before = stored();
    const refused = (code: string, p: Partial<IssueParams>, message: RegExp) =>
      rejectsWith(code, () => issue(`r${Math.random().toString(16).slice(2, 8)}`, p), message);
    await refused(
      'PURPOSE_REQUIRED',
      {},
      /tls-server, smime, code-signing, time-stamping, document-signing, other.*Mozilla Root Store Policy 5\.3/,
    );
    await refused('PURPOSE_UNKNOWN', { purpose: 'web' as never }, /not one of/);
    await refused(
      'PURPOSE_EKU_REFUSED',
      { purpose: 'tls-server', extKeyUsage: ['1.3.6.1.5.5.7.3.4'], extraPolicyOids: ['2.23.140.1.2.2'] },
      /BR 7\.1\.2\.10\.6/,
    );
    await refused(
      'PURPOSE_EKU_REFUSED',
      { purpose: 'other', extKeyUsage: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.4'] },
      /Mozilla Root Store Policy 5\.3.*serverAuth and id-kp-emailProtection/,
    );
    await refused(
      'PURPOSE_EKU_REFUSED',
      { purpose: 'smime', extKeyUsage: ['2.5.29.37.0'], extraPolicyOids: ['2.23.140.1.5.1.1'] },
      /anyExtendedKeyUsage/,
    );
    await refused('PURPOSE_EKU_REFUSED', { purpose: 'other' }, /at least one --eku/);
    await refused('PURPOSE_POLICY_REFUSED', { purpose: 'tls-server' }, /2\.23\.140\.1\.2\.1.*BR 7\.1\.2\.10\.5/);
    await refused(
      'PURPOSE_POLICY_REFUSED',
      { purpose: 'tls-server', extraPolicyOids: ['2.23.140.1.2.1', '2.23.140.1.2.2'] },
      /exactly one/,
    );
    await refused(
      'PURPOSE_POLICY_REFUSED',
      { purpose: 'smime', extraPolicyOids: ['2.23.140.1.2.2'] },
      /not a reserved policy of a smime/,
    );
    await refused(
      'PROFILE_OPTION_NOT_ALLOWED',
      { profile: 'tsa', pathLenConstraint: undefined, purpose: 'smime' },
      /purpose does not apply to the tsa profile/,
    );
    const tls = { purpose: 'tls-server' as const, extraPolicyOids: ['2.23.140.1.2.2'] };
    await refused(
      'NAME_CONSTRAINT_INVALID',
      { ...tls, permittedDnsNames: ['*.example.jp'], permittedDirectoryNames: ['C=JP'] },
      /no wildcard/,
    );
    await refused(
      'NAME_CONSTRAINT_INVALID',
      { ...tls, permittedIpRanges: ['192.0.2.1/24'], permittedDirectoryNames: ['C=JP'] },
      /host bits/,
    );
    await refused(
      'NAME_CONSTRAINT_INVALID',
      { ...tls, permittedIpRanges: ['300.0.0.0/8'], permittedDirectoryNames: ['C=JP'] },
      /IPv4/,
    );
    await refused(
      'NAME_CONSTRAINT_INVALID',
      { ...tls, permittedIpRanges: ['2001:db8::/129'], permittedDirectoryNames: ['C=JP'] },
      /prefix/,
    );
    await refused(
      'NAME_CONSTRAINT_INVALID',
      { ...tls, permittedDnsNames: ['example.jp'] },
      /BR 7\.1\.2\.5\.2.*directoryName/,
    );
    await refused('NAME_CONSTRAINT_INVALID', { ...tls, permittedDirectoryNames: ['XX=1'] }, /TYPE=value/);
    await refused(
      'NAME_CONSTRAINT_INVALID',
      { purpose: 'smime', extraPolicyOids: ['2.23.140.1.5.2.2'], permittedEmails: ['a b@example.jp'] },
      /mailbox/,
    );
    assert.equal(stored(), before, 'nothing was stored');
    const refusals = inst.db
      .prepare("SELECT count(*) AS n FROM audit_events WHERE action = 'certificate.issue' AND outcome = 'refused'")
      .get() as { n: number };
    assert.ok(refusals.n >= 17, `each refusal is audited (${refusals.n})`);
  });
});
