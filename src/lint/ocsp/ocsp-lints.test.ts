/**
 * Issue 15.8: OCSP responses are linted like certificates and CRLs. Certificates made by the
 * OpenSSL CLI (a root with keyCertSign+cRLSign only, as the SECOM roots; a delegated responder
 * it issues; an unrelated responder); responses built by pki/ocsp and checked by `openssl ocsp`
 * where it has a view. Each rule shows one passing and one failing response.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CaError } from '../../errors.ts';
import { type CertificateInfo, certificateInfo } from '../../pki/certificate-info.ts';
import { assembleOcspResponse, certIdsFor, createTbsResponseData } from '../../pki/ocsp.ts';
import { pemToDer } from '../../pki/pem.ts';
import { ALL_OCSP_LINTS, assertNoOcspLintErrors, lintOcspResponse } from './index.ts';

const DAY = 86_400_000;
/** The time of signing in these tests: just after the certificates were made (whole seconds, as OCSP times). */
let NOW: Date;
const dir = mkdtempSync(join(tmpdir(), 'rootca-ocsp-lint-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });

interface Party {
  info: CertificateInfo;
  key: KeyObject;
  pem: string;
}

function party(name: string): Party {
  const pem = join(dir, `${name}.pem`);
  return {
    info: certificateInfo(pemToDer(readFileSync(pem, 'utf8'), 'CERTIFICATE')),
    key: createPrivateKey(readFileSync(join(dir, `${name}.key`))),
    pem,
  };
}

/** A root like the SECOM roots (no digitalSignature), one with it, a responder each root issues, and a stranger. */
function makeParties() {
  const root = (name: string, ku: string) =>
    openssl(
      ...'req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650'.split(' '),
      ...['-keyout', `${name}.key`, '-out', `${name}.pem`, '-subj', `/C=JP/O=Test/CN=${name}`],
      ...['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', `keyUsage=critical,${ku}`],
    );
  root('root', 'keyCertSign,cRLSign');
  root('rootds', 'digitalSignature,keyCertSign,cRLSign');
  writeFileSync(join(dir, 'ocsp.ext'), 'keyUsage=critical,digitalSignature\nextendedKeyUsage=OCSPSigning\n');
  writeFileSync(join(dir, 'noeku.ext'), 'keyUsage=critical,digitalSignature\n');
  const responder = (name: string, ca: string, ext: string, days: string) => {
    openssl(
      ...`req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ${name}.key`.split(' '),
      ...['-out', `${name}.csr`, '-subj', `/C=JP/O=Test/CN=${name}`],
    );
    openssl(
      ...`x509 -req -in ${name}.csr -CA ${ca}.pem -CAkey ${ca}.key -CAcreateserial -days ${days}`.split(' '),
      ...['-extfile', ext, '-out', `${name}.pem`],
    );
  };
  responder('responder', 'root', 'ocsp.ext', '365');
  responder('short', 'root', 'ocsp.ext', '2');
  responder('noeku', 'root', 'noeku.ext', '365');
  responder('stranger', 'rootds', 'ocsp.ext', '365');
  return {
    root: party('root'),
    rootds: party('rootds'),
    responder: party('responder'),
    short: party('short'),
    noeku: party('noeku'),
    stranger: party('stranger'),
  };
}

let p: ReturnType<typeof makeParties>;
before(() => {
  p = makeParties();
  NOW = new Date(Math.floor(Date.now() / 1000) * 1000 + 2000);
});

/** A response about serial 0x1234 of `issuer`, signed by `signer`, with the fields a case changes. */
function response(
  issuer: Party,
  signer: Party,
  o: { thisUpdate?: Date; nextUpdate?: Date; keyHashOf?: Party; certs?: Party[] } = {},
): Buffer {
  const thisUpdate = o.thisUpdate ?? NOW;
  const tbs = createTbsResponseData({
    responderKeyHash: createHash('sha1')
      .update((o.keyHashOf ?? signer).info.publicKey)
      .digest(),
    producedAt: thisUpdate,
    responses: [
      {
        certId: certIdsFor(issuer.info.der, '1234')[1]!,
        status: { status: 'good' },
        thisUpdate,
        nextUpdate: o.nextUpdate ?? new Date(thisUpdate.getTime() + 7 * DAY),
      },
    ],
  });
  const certs = o.certs ?? (signer === issuer ? [] : [signer]);
  return assembleOcspResponse(
    tbs.der,
    'ecdsa-with-SHA256',
    sign('sha256', tbs.der, signer.key),
    certs.map((c) => c.info.der),
  );
}

function errorsOf(der: Buffer, issuer: Party, signer: Party, now = NOW): string[] {
  return lintOcspResponse(der, { issuer: issuer.info, signer: signer.info, now })
    .filter((f) => f.severity === 'error')
    .map((f) => `${f.lint}: ${f.message}`);
}

describe('issue 15.8: OCSP response lints', () => {
  it('a delegated responder response passes every lint, and openssl ocsp verifies it', () => {
    const der = response(p.root, p.responder);
    assert.deepEqual(lintOcspResponse(der, { issuer: p.root.info, signer: p.responder.info, now: NOW }), []);
    writeFileSync(join(dir, 'good.resp'), der);
    const out = execFileSync(
      'openssl',
      ['ocsp', '-respin', join(dir, 'good.resp'), '-CAfile', p.root.pem, '-issuer', p.root.pem, '-resp_text'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ).toString();
    assert.match(out, /Response Type: Basic OCSP Response/);
  });

  it('refuses a response a root signs itself when its keyUsage lacks digitalSignature (BR 7.1.2.10.7)', () => {
    assert.deepEqual(errorsOf(response(p.root, p.root), p.root, p.root), [
      'e_ocsp_signer_authorized: signed by the CA C=JP, O=Test, CN=root itself, whose keyUsage lacks digitalSignature (BR 7.1.2.10.7): a delegated responder must sign',
    ]);
    assert.deepEqual(errorsOf(response(p.rootds, p.rootds), p.rootds, p.rootds), []);
  });

  it('refuses a signer without OCSPSigning, or not issued by the CA (RFC 6960 4.2.2.2)', () => {
    assert.match(errorsOf(response(p.root, p.noeku), p.root, p.noeku).join('\n'), /has no id-kp-OCSPSigning/);
    assert.match(
      errorsOf(response(p.root, p.stranger), p.root, p.stranger).join('\n'),
      /e_ocsp_signer_authorized: the signer .*stranger is not issued directly by the CA .*root/,
    );
  });

  it('refuses a responderID that names another key, and a signature by another key', () => {
    assert.match(
      errorsOf(response(p.root, p.responder, { keyHashOf: p.noeku }), p.root, p.responder).join('\n'),
      /e_ocsp_responder_id: responderID byKey .* is not the SHA-1 of the signer's key/,
    );
    assert.match(
      errorsOf(response(p.root, p.noeku), p.root, p.responder).join('\n'),
      /e_ocsp_signature_invalid: the signature does not verify/,
    );
  });

  it('refuses nextUpdate more than twelve months after thisUpdate (BR 4.9.10), and before it', () => {
    const long = response(p.rootds, p.rootds, { nextUpdate: new Date(NOW.getTime() + 367 * DAY) });
    assert.match(errorsOf(long, p.rootds, p.rootds).join('\n'), /e_ocsp_validity_too_long: .*more than twelve months/);
    const year = response(p.rootds, p.rootds, { nextUpdate: new Date(NOW.getTime() + 365 * DAY) });
    assert.deepEqual(errorsOf(year, p.rootds, p.rootds), []);
    const backwards = response(p.rootds, p.rootds, { nextUpdate: new Date(NOW.getTime() - DAY) });
    assert.match(errorsOf(backwards, p.rootds, p.rootds).join('\n'), /before its thisUpdate/);
  });

  it('refuses a thisUpdate in the future beyond five minutes of skew', () => {
    const ahead = response(p.root, p.responder, { thisUpdate: new Date(NOW.getTime() + 10 * 60_000) });
    assert.match(errorsOf(ahead, p.root, p.responder).join('\n'), /e_ocsp_update_in_future: producedAt .* thisUpdate/s);
    const skew = response(p.root, p.responder, { thisUpdate: new Date(NOW.getTime() + 60_000) });
    assert.deepEqual(errorsOf(skew, p.root, p.responder), []);
  });

  it('refuses a response that outlives its signer certificate, with the dates', () => {
    const der = response(p.root, p.short, { nextUpdate: new Date(NOW.getTime() + 7 * DAY) });
    assert.match(
      errorsOf(der, p.root, p.short).join('\n'),
      /e_ocsp_outlives_signer: the response for 1234 is valid until \S+, after its signer .*short expires \(\S+\)/,
    );
  });

  it('warns when a delegated responder leaves its certificate out of certs', () => {
    const findings = lintOcspResponse(response(p.root, p.responder, { certs: [] }), {
      issuer: p.root.info,
      signer: p.responder.info,
      now: NOW,
    });
    assert.deepEqual(
      findings.map((f) => [f.lint, f.severity]),
      [['w_ocsp_signer_certificate_missing', 'warning']],
    );
  });

  it('refuses bytes that are not canonical DER or not a response at all', () => {
    const good = response(p.root, p.responder);
    // A long-form length for the outer SEQUENCE: BER, not DER.
    const len = good.length - 4;
    const ber = Buffer.concat([Buffer.from([0x30, 0x83, 0, len >> 8, len & 0xff]), good.subarray(4)]);
    assert.match(errorsOf(ber, p.root, p.responder).join('\n'), /e_ocsp_der_encoding/);
    assert.match(errorsOf(Buffer.from('nonsense'), p.root, p.responder).join('\n'), /e_ocsp_der_encoding: not an OCSP/);
  });

  it('assertNoOcspLintErrors throws OCSP_LINT_FAILED naming each rule with its citation', () => {
    const findings = lintOcspResponse(response(p.root, p.root), { issuer: p.root.info, signer: p.root.info, now: NOW });
    assert.throws(
      () => assertNoOcspLintErrors(findings, 'the test response'),
      (e: unknown) =>
        e instanceof CaError &&
        e.code === 'OCSP_LINT_FAILED' &&
        /the test response fails 1 lint check/.test(e.message) &&
        e.message.includes('RFC 6960 4.2.2.2'),
    );
  });

  it('every OCSP lint cites a section and a quote', () => {
    for (const l of ALL_OCSP_LINTS) assert.match(l.citation, /^(RFC \d+|BR) [\d.]+: "/, l.name);
  });
});
