/**
 * Table-driven CRL lint tests (CONVENTIONS 10; R-3.6, R-4.2): a good CRL from the builder passes
 * every lint (and openssl accepts it); each bad case is the good CRL edited field by field,
 * re-signed with the CA key, and must be caught by the named lint.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  Certificate,
  CRLReason,
  CRLReasons,
  Extension,
  GeneralName,
  KeyIdentifier,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  TBSCertList,
  Time,
  id_ce_authorityKeyIdentifier,
  id_ce_cRLNumber,
  id_ce_cRLReasons,
  id_ce_certificateIssuer,
  id_ce_invalidityDate,
  id_ce_keyUsage,
} from '@peculiar/asn1-x509';
import { CaError } from '../../errors.ts';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithmName } from '../../pki/algorithms.ts';
import { parseCertificate } from '../../pki/certificate.ts';
import { assembleSignedCrl, createTbsCertList, type CrlEntry, type TbsCertListParams } from '../../pki/crl.ts';
import { derTlv } from '../../pki/der.ts';
import { keyIdentifierFromSpki } from '../../pki/extensions.ts';
import { pemToDer, readDerElement } from '../../pki/pem.ts';
import type { LintFinding } from '../types.ts';
import { parseCrlForLint } from './e_crl_der_encoding.ts';
import { ALL_CRL_LINTS, assertNoCrlLintErrors, lintCrl, lintParsedCrl } from './index.ts';
import { lintCrlStreamed } from './stream.ts';
import type { CrlLintContext } from './types.ts';
import { OPENSSL_CA_CNF, opensslRunner } from '../../../test/openssl-runner.ts';

let dir: string;
const { run: openssl } = opensslRunner(() => dir);

interface TestCa {
  name: string;
  alg: SignatureAlgorithmName;
  cert: Certificate;
  ski: Buffer;
  key: KeyObject;
}

function makeCa(name: string, keyArgs: string[], alg: SignatureAlgorithmName): TestCa {
  openssl('genpkey', ...keyArgs, '-out', `${name}.key`);
  openssl(
    'req',
    '-x509',
    '-new',
    '-config',
    'ca.cnf',
    '-key',
    `${name}.key`,
    '-subj',
    `/C=JP/O=Example Trust/CN=Example ${name} Root`,
    '-days',
    '3650',
    `-${SIGNATURE_ALGORITHMS[alg].hash}`,
    '-out',
    `${name}.pem`,
  );
  const cert = parseCertificate(pemToDer(readFileSync(join(dir, `${name}.pem`), 'utf8'), 'CERTIFICATE'));
  return {
    name,
    alg,
    cert,
    ski: keyIdentifierFromSpki(AsnConvert.serialize(cert.tbsCertificate.subjectPublicKeyInfo) as never as Uint8Array),
    key: createPrivateKey(readFileSync(join(dir, `${name}.key`))),
  };
}

let rsa: TestCa;
let ec: TestCa;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rootca-crl-lint-'));
  writeFileSync(join(dir, 'ca.cnf'), OPENSSL_CA_CNF);
  rsa = makeCa('rsa', ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], 'sha256WithRSAEncryption');
  ec = makeCa('ec', ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'], 'ecdsa-with-SHA384');
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const THIS_UPDATE = new Date('2030-04-01T00:00:00Z');
const NOW = new Date('2030-04-01T00:10:00Z');

function goodParams(ca: TestCa, over: Partial<TbsCertListParams> = {}): TbsCertListParams {
  const entries: CrlEntry[] = [
    {
      serialHex: '7a01020304050607',
      revocationDate: new Date('2030-03-31T12:00:00Z'),
      reason: 'keyCompromise',
      invalidityDate: new Date('2030-03-30T00:00:00Z'),
    },
    { serialHex: '0b0102030405060708', revocationDate: new Date('2030-03-30T12:00:00Z'), reason: 'cACompromise' },
    { serialHex: '3c01', revocationDate: new Date('2030-03-29T12:00:00Z') },
  ];
  return {
    signatureAlgorithm: ca.alg,
    issuer: ca.cert.tbsCertificate.subject,
    thisUpdate: THIS_UPDATE,
    nextUpdate: new Date('2030-07-01T00:00:00Z'),
    crlNumber: 7n,
    authorityKeyIdentifier: ca.ski,
    entries,
    ...over,
  };
}

function ctx(ca: TestCa, over: Partial<CrlLintContext> = {}): CrlLintContext {
  return { issuer: ca.cert, now: NOW, allowLegacySha1: false, ...over };
}

/** Builds the good TBS, lets `edit` change it, signs it with the CA key (`alg` for the outer algorithm). */
function crlWith(
  ca: TestCa,
  opts: {
    params?: Partial<TbsCertListParams>;
    edit?: (tbs: TBSCertList) => void;
    outerAlg?: SignatureAlgorithmName;
    signHash?: string;
  } = {},
): Buffer {
  const built = createTbsCertList(goodParams(ca, opts.params));
  let tbsDer = built.der;
  if (opts.edit) {
    const tbs = AsnConvert.parse(built.der, TBSCertList);
    opts.edit(tbs);
    tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  }
  const alg = opts.outerAlg ?? ca.alg;
  const hash = opts.signHash ?? SIGNATURE_ALGORITHMS[alg].hash;
  return assembleSignedCrl(tbsDer, alg, sign(hash, tbsDer, ca.key));
}

function ext(extnID: string, valueDer: Uint8Array, critical = false): Extension {
  return new Extension({ extnID, critical, extnValue: new OctetString(valueDer) });
}

function reasonExt(code: number, critical = false): Extension {
  return ext(id_ce_cRLReasons, new Uint8Array(AsnConvert.serialize(new CRLReason(code))), critical);
}

function crlExt(tbs: TBSCertList, oid: string): Extension {
  const e = tbs.crlExtensions!.find((x) => x.extnID === oid);
  assert.ok(e);
  return e;
}

function names(findings: LintFinding[], severity: 'error' | 'warning' = 'error'): string[] {
  return [...new Set(findings.filter((f) => f.severity === severity).map((f) => f.lint))].sort();
}

describe('R-4.2 a good CRL passes every lint', () => {
  for (const which of ['rsa', 'ec'] as const) {
    it(`${which}: no findings, and openssl verifies it`, () => {
      const ca = which === 'rsa' ? rsa : ec;
      const crl = crlWith(ca);
      assert.deepEqual(lintCrl(crl, ctx(ca)), []);
      writeFileSync(join(dir, `${which}-good.crl`), crl);
      assert.match(
        openssl('crl', '-in', `${which}-good.crl`, '-inform', 'DER', '-CAfile', `${which}.pem`, '-noout', '-verify'),
        /verify OK/,
      );
    });
  }
  it('an empty CRL (no revokedCertificates) has no findings', () => {
    assert.deepEqual(lintCrl(crlWith(rsa, { params: { entries: [] } }), ctx(rsa)), []);
  });
  it('nextUpdate exactly twelve months after thisUpdate is allowed', () => {
    assert.deepEqual(lintCrl(crlWith(rsa, { params: { nextUpdate: new Date('2031-04-01T00:00:00Z') } }), ctx(rsa)), []);
  });
  it('29 February + 12 months is 28 February', () => {
    const p = { thisUpdate: new Date('2028-02-29T00:00:00Z'), entries: [] };
    assert.deepEqual(
      lintCrl(
        crlWith(rsa, { params: { ...p, nextUpdate: new Date('2029-02-28T00:00:00Z') } }),
        ctx(rsa, { now: p.thisUpdate }),
      ),
      [],
    );
    assert.deepEqual(
      names(
        lintCrl(
          crlWith(rsa, { params: { ...p, nextUpdate: new Date('2029-03-01T00:00:00Z') } }),
          ctx(rsa, { now: p.thisUpdate }),
        ),
      ),
      ['e_crl_validity_too_long'],
    );
  });
  it('CRL number 0 and 2^159 - 1 are allowed', () => {
    assert.deepEqual(lintCrl(crlWith(rsa, { params: { crlNumber: 0n } }), ctx(rsa)), []);
    assert.deepEqual(lintCrl(crlWith(rsa, { params: { crlNumber: (1n << 159n) - 1n } }), ctx(rsa)), []);
  });
});

interface BadCase {
  name: string;
  ca?: () => TestCa;
  crl: () => Buffer;
  ctx?: () => CrlLintContext;
  errors?: string[];
  warnings?: string[];
}

const OTHER_NAME = (): Name =>
  new Name([
    new RelativeDistinguishedName([
      new AttributeTypeAndValue({ type: '2.5.4.3', value: new AttributeValue({ utf8String: 'Somebody Else' }) }),
    ]),
  ]);

const cases: BadCase[] = [
  // Version and encoding
  {
    name: 'v1 CRL (version absent)',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          t.version = undefined;
        },
      }),
    errors: ['e_crl_version_not_2'],
  },
  {
    name: 'not DER: the version INTEGER with a non-minimal length (BER)',
    crl: () => {
      const tbs = createTbsCertList(goodParams(rsa)).der;
      const content = tbs.subarray(readDerElement(tbs, 0).contentStart);
      assert.deepEqual(content.subarray(0, 3), Buffer.from([0x02, 0x01, 0x01]));
      const ber = derTlv(0x30, Buffer.concat([Buffer.from([0x02, 0x81, 0x01, 0x01]), content.subarray(3)]));
      return assembleSignedCrl(ber, rsa.alg, sign('sha256', ber, rsa.key));
    },
    errors: ['e_crl_der_encoding'],
  },
  { name: 'garbage bytes', crl: () => Buffer.from('this is not a CRL'), errors: ['e_crl_der_encoding'] },
  {
    name: 'trailing bytes',
    crl: () => Buffer.concat([crlWith(rsa), Buffer.from([0, 0])]),
    errors: ['e_crl_der_encoding'],
  },
  // Signature algorithm
  {
    name: 'outer signatureAlgorithm differs from tbsCertList.signature',
    crl: () => crlWith(rsa, { outerAlg: 'sha384WithRSAEncryption' }),
    errors: ['e_crl_signature_algorithm_mismatch'],
  },
  {
    name: 'RSA algorithm without NULL parameters (inner)',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          t.signature = new AlgorithmIdentifier({ algorithm: SIGNATURE_ALGORITHMS.sha256WithRSAEncryption.oid });
        },
      }),
    errors: ['e_crl_signature_algorithm_mismatch', 'e_crl_signature_algorithm_parameters'],
  },
  {
    name: 'ECDSA P-384 key signing with SHA-256',
    crl: () => crlWith(ec, { params: { signatureAlgorithm: 'ecdsa-with-SHA256' }, outerAlg: 'ecdsa-with-SHA256' }),
    ctx: () => ctx(ec),
    errors: ['e_crl_signature_algorithm_issuer_key_mismatch'],
  },
  {
    name: 'RSA issuer, ECDSA algorithm',
    crl: () =>
      crlWith(rsa, {
        params: { signatureAlgorithm: 'ecdsa-with-SHA384' },
        outerAlg: 'ecdsa-with-SHA384',
        signHash: 'sha384',
      }),
    errors: ['e_crl_signature_algorithm_issuer_key_mismatch'],
  },
  {
    name: 'SHA-1 without the R-1.3 override',
    crl: () =>
      crlWith(rsa, { params: { signatureAlgorithm: 'sha1WithRSAEncryption' }, outerAlg: 'sha1WithRSAEncryption' }),
    errors: ['e_crl_sha1_signature'],
  },
  {
    name: 'SHA-1 with the R-1.3 override: a warning only',
    crl: () =>
      crlWith(rsa, { params: { signatureAlgorithm: 'sha1WithRSAEncryption' }, outerAlg: 'sha1WithRSAEncryption' }),
    ctx: () => ctx(rsa, { allowLegacySha1: true }),
    errors: [],
    warnings: ['e_crl_sha1_signature'],
  },
  // Issuer
  {
    name: 'wrong issuer name',
    crl: () => crlWith(rsa, { params: { issuer: OTHER_NAME() } }),
    errors: ['e_crl_issuer_name_chaining'],
  },
  {
    name: 'issuer with the same text but a different string type (UTF8String for C=JP)',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          t.issuer[0]![0]!.value = new AttributeValue({ utf8String: 'JP' });
        },
      }),
    errors: ['e_crl_issuer_name_chaining'],
  },
  {
    name: 'CRL from another CA (issuer and AKI of the EC root, checked against the RSA root)',
    crl: () => crlWith(ec),
    ctx: () => ctx(rsa),
    errors: [
      'e_crl_authority_key_identifier',
      'e_crl_issuer_name_chaining',
      'e_crl_signature_algorithm_issuer_key_mismatch',
    ],
  },
  {
    name: 'issuer certificate whose keyUsage lacks cRLSign',
    crl: () => crlWith(rsa),
    ctx: () => ctx(rsa, { issuer: withoutCrlSign(rsa.cert) }),
    errors: ['e_crl_issuer_crl_sign'],
  },
  // Dates
  {
    name: 'nextUpdate missing',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          t.nextUpdate = undefined;
        },
      }),
    errors: ['e_crl_next_update_missing'],
  },
  {
    name: 'nextUpdate equal to thisUpdate',
    crl: () => crlWith(rsa, { params: { nextUpdate: THIS_UPDATE } }),
    errors: ['e_crl_update_order'],
    warnings: ['w_crl_update_at_lint_time'],
  },
  {
    name: 'nextUpdate before thisUpdate',
    crl: () => crlWith(rsa, { params: { nextUpdate: new Date('2030-03-01T00:00:00Z') } }),
    errors: ['e_crl_update_order'],
    warnings: ['w_crl_update_at_lint_time'],
  },
  {
    name: 'nextUpdate 13 months after thisUpdate',
    crl: () => crlWith(rsa, { params: { nextUpdate: new Date('2031-05-01T00:00:00Z') } }),
    errors: ['e_crl_validity_too_long'],
  },
  {
    name: 'nextUpdate 12 months and one second after thisUpdate',
    crl: () => crlWith(rsa, { params: { nextUpdate: new Date('2031-04-01T00:00:01Z') } }),
    errors: ['e_crl_validity_too_long'],
  },
  {
    name: 'thisUpdate as GeneralizedTime before 2050',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          t.thisUpdate = new Time({ generalTime: THIS_UPDATE });
        },
      }),
    errors: ['e_crl_time_encoding'],
  },
  {
    name: 'revocationDate as GeneralizedTime before 2050',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          t.revokedCertificates![1]!.revocationDate = new Time({ generalTime: new Date('2030-03-30T12:00:00Z') });
        },
      }),
    errors: ['e_crl_time_encoding'],
  },
  {
    name: 'thisUpdate after the time of linting',
    crl: () => crlWith(rsa),
    ctx: () => ctx(rsa, { now: new Date('2030-03-31T00:00:00Z') }),
    errors: [],
    warnings: ['w_crl_update_at_lint_time'],
  },
  {
    name: 'nextUpdate passed at the time of linting',
    crl: () => crlWith(rsa),
    ctx: () => ctx(rsa, { now: new Date('2030-08-01T00:00:00Z') }),
    errors: [],
    warnings: ['w_crl_update_at_lint_time'],
  },
  {
    name: 'revocationDate after thisUpdate',
    crl: () =>
      crlWith(rsa, { params: { entries: [{ serialHex: '01', revocationDate: new Date('2030-04-02T00:00:00Z') }] } }),
    errors: [],
    warnings: ['w_crl_revocation_date_after_this_update'],
  },
  // CRL extensions
  {
    name: 'AKI missing',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          t.crlExtensions = t.crlExtensions!.filter((e) => e.extnID !== id_ce_authorityKeyIdentifier);
        },
      }),
    errors: ['e_crl_authority_key_identifier'],
  },
  {
    name: 'AKI with a keyIdentifier that is not the issuer SKI',
    crl: () => crlWith(rsa, { params: { authorityKeyIdentifier: Buffer.alloc(20, 0xab) } }),
    errors: ['e_crl_authority_key_identifier'],
  },
  {
    name: 'AKI critical',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          crlExt(t, id_ce_authorityKeyIdentifier).critical = true;
        },
      }),
    errors: ['e_crl_authority_key_identifier'],
  },
  {
    name: 'AKI with issuer and serial',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          crlExt(t, id_ce_authorityKeyIdentifier).extnValue = new OctetString(
            AsnConvert.serialize(
              new AuthorityKeyIdentifier({
                keyIdentifier: new KeyIdentifier(rsa.ski),
                authorityCertIssuer: [new GeneralName({ dNSName: 'x.example' })],
                authorityCertSerialNumber: new Uint8Array([1]).buffer,
              }),
            ),
          );
        },
      }),
    errors: ['e_crl_authority_key_identifier'],
  },
  {
    name: 'CRL number missing',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          t.crlExtensions = t.crlExtensions!.filter((e) => e.extnID !== id_ce_cRLNumber);
        },
      }),
    errors: ['e_crl_number'],
  },
  {
    name: 'CRL number critical',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          crlExt(t, id_ce_cRLNumber).critical = true;
        },
      }),
    errors: ['e_crl_number'],
  },
  {
    name: 'CRL number 2^159 (21 octets)',
    crl: () => crlWith(rsa, { params: { crlNumber: 1n << 159n } }),
    errors: ['e_crl_number'],
  },
  { name: 'CRL number negative', crl: () => crlWith(rsa, { params: { crlNumber: -1n } }), errors: ['e_crl_number'] },
  {
    name: 'CRL number not an INTEGER',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          crlExt(t, id_ce_cRLNumber).extnValue = new OctetString(Buffer.from([0x04, 0x01, 0x07]));
        },
      }),
    errors: ['e_crl_number'],
  },
  {
    name: 'an unknown critical CRL extension',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          t.crlExtensions!.push(ext('1.2.3.4', Buffer.from([0x05, 0x00]), true));
        },
      }),
    errors: ['e_crl_ext_unknown_critical'],
  },
  {
    name: 'an unknown non-critical CRL extension: a warning',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          t.crlExtensions!.push(ext('1.2.3.4', Buffer.from([0x05, 0x00])));
        },
      }),
    errors: [],
    warnings: ['e_crl_ext_unknown_critical'],
  },
  {
    name: 'the CRL number extension twice',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          t.crlExtensions!.push(crlExt(t, id_ce_cRLNumber));
        },
      }),
    errors: ['e_crl_ext_duplicate'],
  },
  // Entries
  {
    name: 'revokedCertificates present but empty',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          t.revokedCertificates = [];
        },
      }),
    errors: ['e_crl_revoked_list_empty'],
  },
  {
    name: 'duplicate serial numbers',
    crl: () =>
      crlWith(rsa, {
        params: {
          entries: [
            { serialHex: '0a0b', revocationDate: new Date('2030-03-01T00:00:00Z') },
            { serialHex: '0A0B', revocationDate: new Date('2030-03-02T00:00:00Z'), reason: 'superseded' },
          ],
        },
      }),
    errors: ['e_crl_entry_duplicate_serial'],
  },
  {
    name: 'serial number zero',
    crl: () =>
      crlWith(rsa, { params: { entries: [{ serialHex: '00', revocationDate: new Date('2030-03-01T00:00:00Z') }] } }),
    errors: ['e_crl_entry_serial_number'],
  },
  {
    name: 'serial number negative',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          t.revokedCertificates![0]!.userCertificate = new Uint8Array([0x80, 0x01]).buffer;
        },
      }),
    errors: ['e_crl_entry_serial_number'],
  },
  {
    name: 'serial number of 21 octets',
    crl: () =>
      crlWith(rsa, {
        params: { entries: [{ serialHex: '01'.repeat(21), revocationDate: new Date('2030-03-01T00:00:00Z') }] },
      }),
    errors: ['e_crl_entry_serial_number'],
  },
  {
    name: "reasonCode 'unspecified' (0)",
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          t.revokedCertificates![2]!.crlEntryExtensions = [reasonExt(CRLReasons.unspecified)];
        },
      }),
    errors: ['e_crl_entry_reason_code'],
  },
  {
    name: 'reasonCode certificateHold (6)',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          t.revokedCertificates![2]!.crlEntryExtensions = [reasonExt(CRLReasons.certificateHold)];
        },
      }),
    errors: ['e_crl_entry_reason_code'],
  },
  {
    name: 'reasonCode removeFromCRL (8)',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          t.revokedCertificates![2]!.crlEntryExtensions = [reasonExt(CRLReasons.removeFromCRL)];
        },
      }),
    errors: ['e_crl_entry_reason_code'],
  },
  {
    name: 'reasonCode aACompromise (10)',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          t.revokedCertificates![2]!.crlEntryExtensions = [reasonExt(CRLReasons.aACompromise)];
        },
      }),
    errors: ['e_crl_entry_reason_code'],
  },
  {
    name: 'reasonCode critical',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          t.revokedCertificates![2]!.crlEntryExtensions = [reasonExt(CRLReasons.superseded, true)];
        },
      }),
    errors: ['e_crl_entry_reason_code'],
  },
  {
    name: 'reasonCode twice in one entry',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          t.revokedCertificates![2]!.crlEntryExtensions = [reasonExt(4), reasonExt(4)];
        },
      }),
    errors: ['e_crl_ext_duplicate'],
  },
  {
    name: 'invalidityDate critical',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          t.revokedCertificates![0]!.crlEntryExtensions!.find((e) => e.extnID === id_ce_invalidityDate)!.critical =
            true;
        },
      }),
    errors: ['e_crl_entry_extensions'],
  },
  {
    name: 'invalidityDate that is not a GeneralizedTime',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          t.revokedCertificates![0]!.crlEntryExtensions!.find((e) => e.extnID === id_ce_invalidityDate)!.extnValue =
            new OctetString(Buffer.from([0x02, 0x01, 0x01]));
        },
      }),
    errors: ['e_crl_entry_extensions'],
  },
  {
    name: 'certificateIssuer entry extension (indirect CRL)',
    crl: () =>
      crlWith(rsa, {
        edit: (t) => {
          t.revokedCertificates![2]!.crlEntryExtensions = [
            ext(id_ce_certificateIssuer, derTlv(0x30, Buffer.from([0x82, 0x01, 0x78])), true),
          ];
        },
      }),
    errors: ['e_crl_entry_extensions'],
  },
];

describe('R-3.6 each CRL lint catches its case', () => {
  for (const c of cases) {
    it(c.name, () => {
      const findings = lintCrl(c.crl(), c.ctx ? c.ctx() : ctx(rsa));
      assert.deepEqual(
        names(findings, 'error'),
        [...(c.errors ?? [])].sort(),
        `errors:\n${findings.map((f) => `${f.severity} ${f.lint}: ${f.message}`).join('\n')}`,
      );
      assert.deepEqual(
        names(findings, 'warning'),
        [...(c.warnings ?? [])].sort(),
        `warnings:\n${findings.map((f) => `${f.severity} ${f.lint}: ${f.message}`).join('\n')}`,
      );
    });
  }

  it('the one-pass lint (stream.ts) gives the findings of the whole parsed CRL, message for message', () => {
    let streamed = 0;
    for (const c of cases) {
      const der = c.crl();
      const context = c.ctx ? c.ctx() : ctx(rsa);
      const parsed = parseCrlForLint(der);
      const whole = parsed.crl ? [...parsed.findings, ...lintParsedCrl(parsed.crl, context)] : parsed.findings;
      const oneTime = lintCrlStreamed(der, context, ALL_CRL_LINTS);
      // Only a CRL that is DER throughout is linted in one pass; the others take the whole path.
      assert.equal(oneTime === undefined, (c.errors ?? []).includes('e_crl_der_encoding'), c.name);
      if (oneTime) streamed++;
      assert.deepEqual(oneTime ?? whole, whole, c.name);
      assert.deepEqual(lintCrl(der, context), whole, c.name);
    }
    assert.ok(streamed > 20, `${streamed} cases streamed`);
  });

  it('every lint is exercised by a failing case', () => {
    const hit = new Set(cases.flatMap((c) => [...(c.errors ?? []), ...(c.warnings ?? [])]));
    assert.deepEqual(
      ALL_CRL_LINTS.map((l) => l.name).filter((n) => !hit.has(n)),
      [],
    );
  });
});

describe('CRL lint registry', () => {
  it('names are unique, one file per lint named after it, each citing a section', () => {
    const lintNames = ALL_CRL_LINTS.map((l) => l.name);
    assert.equal(new Set(lintNames).size, lintNames.length);
    const files = readdirSync(import.meta.dirname)
      .filter((f) => /^[ew]_crl_.*\.ts$/.test(f))
      .map((f) => f.replace(/\.ts$/, ''));
    assert.deepEqual([...files].sort(), [...lintNames].sort());
    for (const l of ALL_CRL_LINTS) {
      assert.match(l.name, /^[ew]_crl_/);
      assert.match(l.citation, /^(RFC \d+ [\d.]+|BR [\d.]+|R-[\d.]+): "/, l.name);
      assert.ok(l.description.length > 10, l.name);
    }
  });

  it('assertNoCrlLintErrors throws CRL_LINT_FAILED with the findings, and passes warnings', () => {
    const bad = lintCrl(crlWith(rsa, { params: { nextUpdate: new Date('2031-05-01T00:00:00Z') } }), ctx(rsa));
    assert.throws(
      () => assertNoCrlLintErrors(bad),
      (e: unknown) =>
        e instanceof CaError &&
        e.code === 'CRL_LINT_FAILED' &&
        /e_crl_validity_too_long/.test(e.message) &&
        Array.isArray(e.details.findings),
    );
    const warned = lintCrl(crlWith(rsa), ctx(rsa, { now: new Date('2030-08-01T00:00:00Z') }));
    assert.ok(warned.length > 0);
    assert.doesNotThrow(() => assertNoCrlLintErrors(warned));
  });
});

/** The issuer certificate with keyUsage keyCertSign only (an in-memory edit; lints never check its signature). */
function withoutCrlSign(cert: Certificate): Certificate {
  const copy = AsnConvert.parse(AsnConvert.serialize(cert), Certificate);
  const ku = copy.tbsCertificate.extensions!.find((e) => e.extnID === id_ce_keyUsage)!;
  ku.extnValue = new OctetString(AsnConvert.serialize(new KeyUsage(KeyUsageFlags.keyCertSign)));
  return copy;
}
