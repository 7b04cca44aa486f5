/**
 * Issue 15.8: a delegated responder is used (and the server starts with it) only if the response
 * it would sign passes the OCSP lints. Certificates made by the OpenSSL CLI.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { certificateInfo } from '../pki/certificate-info.ts';
import { pemToDer } from '../pki/pem.ts';
import type { VerifiedCa } from '../publish/verify-types.ts';
import { loadResponderKey, templateProblems, type ResponderKey } from './responders.ts';

const dir = mkdtempSync(join(tmpdir(), 'rootca-responder-template-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const openssl = (args: string) =>
  execFileSync('openssl', args.split(' '), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });

let ca: VerifiedCa;
let other: VerifiedCa;
let responder: ResponderKey;

/** The two fields templateProblems reads of a published CA. */
function published(name: string): VerifiedCa {
  const der = pemToDer(readFileSync(join(dir, `${name}.pem`), 'utf8'), 'CERTIFICATE');
  return { name, der, info: certificateInfo(der) } as VerifiedCa;
}

before(() => {
  const ec = '-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes';
  openssl(`req -x509 ${ec} -keyout ca.key -out ca.pem -days 3650 -subj /CN=Template-Root`);
  writeFileSync(join(dir, 'ocsp.ext'), 'keyUsage=critical,digitalSignature\nextendedKeyUsage=OCSPSigning\n');
  openssl(`req -new ${ec} -keyout r.key -out r.csr -subj /CN=Template-Responder`);
  openssl('x509 -req -in r.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -extfile ocsp.ext -out r.pem');
  openssl(`req -x509 ${ec} -keyout other.key -out other.pem -days 3650 -subj /CN=Template-Root`);
  ca = published('ca');
  other = published('other');
  responder = loadResponderKey({
    certificate: readFileSync(join(dir, 'r.pem')),
    key: readFileSync(join(dir, 'r.key')),
    source: 'r.pem',
  });
});

describe('issue 15.8: the live responder template is linted', () => {
  it('a responder issued by the CA with OCSPSigning signs a template that passes every OCSP lint', () => {
    assert.deepEqual(templateProblems(responder, ca, new Date()), []);
  });

  it('a responder whose responderID would not name its key is refused, naming the rule', () => {
    const wrong = { ...responder, keyHash: Buffer.alloc(20, 7) };
    const problems = templateProblems(wrong, ca, new Date());
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(
      problems[0]!,
      /^r\.pem: responder .*Template-Responder's template response fails e_ocsp_responder_id: .*RFC 6960 4\.2\.2\.3/,
    );
  });

  it('a responder bound to a CA that did not issue it is refused (RFC 6960 4.2.2.2)', () => {
    // Same subject, another key: only the signature tells them apart.
    const problems = templateProblems(responder, other, new Date());
    assert.match(problems.join('\n'), /e_ocsp_signer_authorized: the signer .* is not issued directly by the CA/);
  });
});
