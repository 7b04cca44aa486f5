/**
 * Issue 15 items 4 and 5 on the command line (bin/rootca.mjs as an operator runs it): an
 * application without a purpose is refused naming the choices; one with a purpose and name
 * constraints is approved and issued; a root cross-certifies another and signs a cross CSR.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { allPassphrases, installationWithPeople, openssl, rootca, runShippedCeremony, tempDir } from './helpers.ts';

describe('rootca application submit / issue --purpose, cert cross-certify, cert cross-csr', () => {
  const dir = tempDir();
  const f = (n: string) => join(dir, n);
  let home = '';
  const env = Object.fromEntries(
    Object.entries(allPassphrases()).map(([k, v]) => [`ROOTCA_PASSPHRASE_${k.toUpperCase()}`, v]),
  );
  const cli = (...args: string[]) => rootca(['--home', home, ...args], { env });
  const people = ['--operator', 'alice', '--witness', 'olivia'];

  before(async () => {
    const inst = installationWithPeople({ dir, more: true });
    home = inst.home;
    try {
      await runShippedCeremony(inst, 'ecc-rootca1', dir);
      await runShippedCeremony(inst, 'rootca2', dir);
    } finally {
      inst.close();
    }
    openssl(
      ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('sub.key')].concat(
        ['-subj', '/C=JP/O=Example/CN=Example Sub CA', '-out', f('sub.csr')],
      ),
    );
  });

  it('submit without --purpose exits 1 with PURPOSE_REQUIRED naming the choices; with it, the sub-CA is issued as asked', () => {
    const base = ['application', 'submit', '--by', 'rita', '--ca', 'ecc-rootca1', '--profile', 'subca'];
    const org = ['--csr', f('sub.csr'), '--organisation', 'Example', '--contact', 'pki@example.jp'];
    const none = cli(...base, ...org);
    assert.equal(none.status, 1, none.stderr);
    assert.match(none.stderr, /tls-server, smime, code-signing[\s\S]*\[PURPOSE_REQUIRED\]/);
    const mixed = cli(
      ...base,
      ...org,
      '--purpose',
      'tls-server',
      '--policy',
      '2.23.140.1.2.2',
      '--eku',
      'emailProtection',
    );
    assert.equal(mixed.status, 1);
    assert.match(mixed.stderr, /BR 7\.1\.2\.10\.6[\s\S]*\[PURPOSE_EKU_REFUSED\]/);
    const ok = cli(
      '--json',
      ...base,
      ...org,
      '--purpose',
      'tls-server',
      '--policy',
      '2.23.140.1.2.3',
      '--permit-dns',
      'example.jp',
      '--permit-ip',
      '198.51.100.0/24',
      '--permit-dirname',
      'C=JP, O=Example',
    );
    assert.equal(ok.status, 0, ok.stderr);
    const id = String(JSON.parse(ok.stdout).id);
    const approved = cli(
      'application',
      'approve',
      id,
      '--by',
      'ravi',
      '--id-document',
      'registry',
      '--id-reference',
      'R-1',
    );
    assert.equal(approved.status, 0, approved.stderr);
    const conflict = cli('issue', '--application', id, ...people, '--purpose', 'smime');
    assert.equal(conflict.status, 2, conflict.stderr);
    assert.match(conflict.stderr, /OPTIONS_CONFLICT/);
    const issued = cli('issue', '--application', id, ...people, '--out', f('sub.pem'));
    assert.equal(issued.status, 0, issued.stderr);
    const text = openssl(['x509', '-in', f('sub.pem'), '-noout', '-text']);
    assert.match(text, /Extended Key Usage: \n\s*TLS Web Server Authentication\n/);
    assert.match(text, /Policy: 2\.23\.140\.1\.2\.3/);
    assert.match(
      text,
      /Permitted:\s*\n\s*DNS:example\.jp\s*\n\s*IP:198\.51\.100\.0\/255\.255\.255\.0\s*\n\s*DirName:C ?= ?JP, O ?= ?Example/,
    );
    assert.match(text, /Excluded:\s*\n\s*IP:0:0:0:0:0:0:0:0\/0:0:0:0:0:0:0:0/);
  });

  it('cert cross-certify and cert cross-csr write what they signed', () => {
    const cross = cli(
      'cert',
      'cross-certify',
      '--ca',
      'ecc-rootca1',
      '--certificate',
      f('rootca2.pem'),
      '--unrestricted',
      ...people,
      '--out',
      f('cross.pem'),
    );
    assert.equal(cross.status, 0, cross.stderr);
    assert.match(openssl(['verify', '-CAfile', f('ecc-rootca1.pem'), f('cross.pem')]), /cross\.pem: OK/);
    const csr = cli('cert', 'cross-csr', '--ca', 'rootca2', ...people, '--out', f('rootca2.csr'));
    assert.equal(csr.status, 0, csr.stderr);
    assert.match(csr.stdout, /subject +C=JP, O=SECOM Trust Systems CO\.,LTD\., OU=Security Communication RootCA2/);
    assert.match(openssl(['req', '-verify', '-noout', '-in', f('rootca2.csr')]), /verify OK/i);
    const listed = cli('cert', 'list', '--ca', 'ecc-rootca1');
    assert.match(listed.stdout, /OU=Security Communication RootCA2/);
  });
});
