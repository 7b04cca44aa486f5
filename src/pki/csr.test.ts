import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { CertificationRequest, type CertificationRequestInfo } from '@peculiar/asn1-csr';
import { Attribute, Extension, Extensions } from '@peculiar/asn1-x509';
import { CaError } from '../errors.ts';
import { RULE_EC_CURVE, RULE_KEY_ALGORITHM, RULE_RSA_EXPONENT, RULE_RSA_MIN_SIZE } from './key-quality.ts';
import {
  RULE_DUPLICATE_EXTENSION,
  RULE_PROOF_OF_POSSESSION,
  RULE_SIGNATURE_BITS,
  RULE_UNKNOWN_CRITICAL,
  RULE_VERSION,
  acceptCsr,
  formatCsrInspection,
  inspectCsr,
  pkcs_9_at_extensionRequest,
  type CsrInspection,
} from './csr.ts';
import { derToPem, pemToDer, readDerOrPem } from './pem.ts';

let dir: string;

function openssl(...args: string[]): Buffer {
  return execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
}

const keyArgs: Record<string, string[]> = {
  rsa2048: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
  rsa4096: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:4096'],
  rsa1024: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024'],
  rsaE3: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-pkeyopt', 'rsa_keygen_pubexp:3'],
  p256: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'],
  p384: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
  p521: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521'],
  ed25519: ['-algorithm', 'ED25519'],
};
const madeKeys = new Set<string>();

function key(name: string): string {
  if (!madeKeys.has(name)) {
    openssl('genpkey', ...keyArgs[name]!, '-out', `${name}.key`);
    madeKeys.add(name);
  }
  return `${name}.key`;
}

/** A DER CSR from `openssl req` for key `keyName`, with extra req arguments (-sha1, -addext …). */
function csr(keyName: string, subject: string, ...extra: string[]): Buffer {
  return openssl('req', '-new', '-key', key(keyName), '-subj', subject, '-outform', 'DER', ...extra);
}

const SUB_CA_SUBJECT = '/C=JP/O=Example Corp/CN=Example Sub CA';
const SUB_CA_EXTS = [
  '-addext',
  'basicConstraints=critical,CA:TRUE,pathlen:0',
  '-addext',
  'keyUsage=critical,keyCertSign,cRLSign',
  '-addext',
  'extendedKeyUsage=serverAuth,clientAuth',
  '-addext',
  'subjectAltName=DNS:sub.example.jp',
];

/** Re-signs a CSR after `mutate` changed its CertificationRequestInfo (for structures openssl won't make). */
function resign(der: Buffer, keyName: string, mutate: (cri: CertificationRequestInfo) => void): Buffer {
  const req = AsnConvert.parse(der, CertificationRequest);
  mutate(req.certificationRequestInfo);
  const criDer = Buffer.from(AsnConvert.serialize(req.certificationRequestInfo));
  const privateKey = createPrivateKey(readFileSync(join(dir, key(keyName))));
  const signature = sign('sha256', criDer, privateKey);
  const out = new CertificationRequest({
    certificationRequestInfo: req.certificationRequestInfo,
    signatureAlgorithm: req.signatureAlgorithm,
    signature: new Uint8Array(signature).buffer,
  });
  return Buffer.from(AsnConvert.serialize(out));
}

function addExtension(cri: CertificationRequestInfo, ext: Extension): void {
  const attr = cri.attributes.find((a) => a.type === pkcs_9_at_extensionRequest);
  if (attr) {
    const exts = AsnConvert.parse(attr.values[0]!, Extensions);
    exts.push(ext);
    attr.values = [AsnConvert.serialize(exts)];
  } else {
    cri.attributes.push(
      new Attribute({ type: pkcs_9_at_extensionRequest, values: [AsnConvert.serialize(new Extensions([ext]))] }),
    );
  }
}

/** Offset of `needle` in `hay`, asserting it is there once. */
function indexOnce(hay: Buffer, needle: Buffer): number {
  const i = hay.indexOf(needle);
  assert.ok(i >= 0 && hay.indexOf(needle, i + 1) < 0, 'needle found exactly once');
  return i;
}

function flip(der: Buffer, offset: number): Buffer {
  const copy = Buffer.from(der);
  copy[offset] ^= 0x01;
  return copy;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rootca-csr-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('acceptCsr: good requests', () => {
  const cases: { name: string; make: () => Buffer; key: unknown; subject: string; sigOid: string }[] = [
    {
      name: 'RSA 2048, SHA-256, sub-CA extensions',
      make: () => csr('rsa2048', SUB_CA_SUBJECT, ...SUB_CA_EXTS),
      key: { kind: 'rsa', modulusBits: 2048 },
      subject: 'C=JP, O=Example Corp, CN=Example Sub CA',
      sigOid: '1.2.840.113549.1.1.11',
    },
    {
      name: 'RSA 4096, SHA-384',
      make: () => csr('rsa4096', '/CN=Big', '-sha384'),
      key: { kind: 'rsa', modulusBits: 4096 },
      subject: 'CN=Big',
      sigOid: '1.2.840.113549.1.1.12',
    },
    {
      name: 'RSA 2048, SHA-512',
      make: () => csr('rsa2048', '/CN=S512', '-sha512'),
      key: { kind: 'rsa', modulusBits: 2048 },
      subject: 'CN=S512',
      sigOid: '1.2.840.113549.1.1.13',
    },
    {
      name: 'RSA 2048, SHA-1 (legacy, still proof of possession)',
      make: () => csr('rsa2048', '/CN=Legacy', '-sha1'),
      key: { kind: 'rsa', modulusBits: 2048 },
      subject: 'CN=Legacy',
      sigOid: '1.2.840.113549.1.1.5',
    },
    {
      name: 'RSA 2048, RSASSA-PSS SHA-256 salt 32',
      make: () =>
        csr('rsa2048', '/CN=PSS', '-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32'),
      key: { kind: 'rsa', modulusBits: 2048 },
      subject: 'CN=PSS',
      sigOid: '1.2.840.113549.1.1.10',
    },
    {
      name: 'P-256, SHA-256',
      make: () => csr('p256', '/C=JP/O=Example/CN=EC 256'),
      key: { kind: 'ecdsa', curve: 'P-256' },
      subject: 'C=JP, O=Example, CN=EC 256',
      sigOid: '1.2.840.10045.4.3.2',
    },
    {
      name: 'P-256, SHA-512',
      make: () => csr('p256', '/CN=EC 256 SHA-512', '-sha512'),
      key: { kind: 'ecdsa', curve: 'P-256' },
      subject: 'CN=EC 256 SHA-512',
      sigOid: '1.2.840.10045.4.3.4',
    },
    {
      name: 'P-384, SHA-384',
      make: () => csr('p384', '/CN=EC 384', '-sha384'),
      key: { kind: 'ecdsa', curve: 'P-384' },
      subject: 'CN=EC 384',
      sigOid: '1.2.840.10045.4.3.3',
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const der = c.make();
      const i = acceptCsr(der);
      assert.equal(i.signatureValid, true);
      assert.deepEqual(i.problems, []);
      assert.deepEqual(i.publicKey.algorithm, c.key);
      assert.equal(i.requested.subjectText, c.subject);
      assert.equal(i.requested.signatureAlgorithmOid, c.sigOid);
      assert.deepEqual(i.der, der);
    });
  }

  test('subject kept as encoded, extension requests read', () => {
    const der = csr('rsa2048', SUB_CA_SUBJECT, ...SUB_CA_EXTS, '-addext', 'certificatePolicies=2.23.140.1.2.2');
    const i = acceptCsr(der);
    const r = i.requested;
    // Exact bytes: the subject Name sits in the DER as is, and re-encoding the parsed Name gives them back.
    assert.equal(der.indexOf(r.subjectDer) > 0, true);
    assert.deepEqual(Buffer.from(AsnConvert.serialize(r.subject)), r.subjectDer);
    assert.equal(r.subject[0]![0]!.value.printableString, 'JP'); // countryName: PrintableString
    assert.equal(r.subject[2]![0]!.value.utf8String, 'Example Sub CA'); // openssl default: UTF8String
    assert.equal(der.indexOf(r.publicKeySpki) > 0, true);
    assert.deepEqual(
      r.extensions.map((e) => [e.extnID, e.critical]),
      [
        ['2.5.29.19', true],
        ['2.5.29.15', true],
        ['2.5.29.37', false],
        ['2.5.29.17', false],
        ['2.5.29.32', false],
      ],
    );
    const text = formatCsrInspection(i);
    assert.match(text, /Subject: +C=JP, O=Example Corp, CN=Example Sub CA/);
    assert.match(text, /Public key: +RSA 2048/);
    assert.match(text, /basicConstraints \(2\.5\.29\.19\) \[critical\]: CA:TRUE, pathlen:0/);
    assert.match(text, /keyUsage \(2\.5\.29\.15\) \[critical\]: keyCertSign, cRLSign/);
    assert.match(text, /extKeyUsage \(2\.5\.29\.37\): serverAuth, clientAuth/);
    assert.match(text, /subjectAltName \(2\.5\.29\.17\): DNS:sub\.example\.jp/);
    assert.match(text, /certificatePolicies \(2\.5\.29\.32\): 2\.23\.140\.1\.2\.2/);
    assert.match(text, /Proof of possession: +signature verifies/);
    assert.match(text, /Problems: +none/);
    const spkiHash = createHash('sha256').update(r.publicKeySpki).digest('hex').toUpperCase().slice(0, 8);
    assert.match(text, new RegExp(`SPKI SHA-256: +${spkiHash.slice(0, 2)}:${spkiHash.slice(2, 4)}:`));
  });

  test('UTF-8 subject and RFC 4514 escaping in the text form', () => {
    const i = acceptCsr(csr('p256', '/C=JP/O=例, 株式会社/OU=a\\+b/CN=#1 ', '-utf8'));
    assert.equal(i.requested.subjectText, 'C=JP, O=例\\, 株式会社, OU=a\\+b, CN=\\#1\\ ');
    assert.equal(i.requested.subject[1]![0]!.value.utf8String, '例, 株式会社');
    const multi = acceptCsr(csr('p256', '/C=JP/CN=Ops+serialNumber=42', '-multivalue-rdn'));
    // As encoded: DER sorts the SET OF, so the shorter serialNumber comes first.
    assert.equal(multi.requested.subjectText, 'C=JP, serialNumber=42 + CN=Ops');
  });

  test('a SHA-1 request is accepted but the report says so; PSS shows its hash', () => {
    const text = formatCsrInspection(acceptCsr(csr('rsa2048', '/CN=Legacy', '-sha1')));
    assert.match(text, /sha1WithRSAEncryption/);
    assert.match(text, /signed with SHA-1/);
    const pss = formatCsrInspection(
      acceptCsr(
        csr('rsa2048', '/CN=PSS', '-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32'),
      ),
    );
    assert.match(pss, /RSASSA-PSS with sha256, salt 32/);
    assert.doesNotMatch(pss, /SHA-1/);
    const pss1 = formatCsrInspection(acceptCsr(csr('rsa2048', '/CN=PSS1', '-sha1', '-sigopt', 'rsa_padding_mode:pss')));
    assert.match(pss1, /RSASSA-PSS with sha1/);
    assert.match(pss1, /signed with SHA-1/);
  });
});

describe('acceptCsr: refused requests name the rule', () => {
  const cases: { name: string; make: () => Buffer; rule: string; popValid?: boolean; message?: RegExp }[] = [
    {
      name: 'one byte of the signature flipped',
      make: () => {
        const der = csr('rsa2048', SUB_CA_SUBJECT);
        return flip(der, der.length - 5);
      },
      rule: RULE_PROOF_OF_POSSESSION,
      popValid: false,
    },
    {
      name: 'one byte of the subject flipped',
      make: () => {
        const der = csr('rsa2048', SUB_CA_SUBJECT);
        return flip(der, indexOnce(der, Buffer.from('Example Sub CA')));
      },
      rule: RULE_PROOF_OF_POSSESSION,
      popValid: false,
    },
    {
      name: 'ECDSA signature with one byte flipped',
      make: () => {
        const der = csr('p384', '/CN=EC');
        return flip(der, der.length - 3);
      },
      rule: RULE_PROOF_OF_POSSESSION,
      popValid: false,
    },
    {
      name: 'signature algorithm swapped (SHA-256 -> SHA-512)',
      make: () => {
        const der = csr('rsa2048', '/CN=Swap');
        const sha256WithRSA = Buffer.from('06092a864886f70d01010b', 'hex');
        const at = der.lastIndexOf(sha256WithRSA);
        const copy = Buffer.from(der);
        copy[at + sha256WithRSA.length - 1] = 0x0d;
        return copy;
      },
      rule: RULE_PROOF_OF_POSSESSION,
      popValid: false,
    },
    {
      name: 'RSA 1024',
      make: () => csr('rsa1024', '/CN=Small'),
      rule: RULE_RSA_MIN_SIZE,
      popValid: true,
      message: /1024 bits/,
    },
    {
      name: 'RSA e=3',
      make: () => csr('rsaE3', '/CN=E3'),
      rule: RULE_RSA_EXPONENT,
      popValid: true,
      message: /exponent is 3\b/,
    },
    {
      name: 'P-521',
      make: () => csr('p521', '/CN=P521', '-sha512'),
      rule: RULE_EC_CURVE,
      popValid: true,
      message: /P-521/,
    },
    { name: 'Ed25519', make: () => csr('ed25519', '/CN=Ed'), rule: RULE_KEY_ALGORITHM, message: /Ed25519/ },
    {
      name: 'version 1 (re-signed, so the signature is good)',
      make: () =>
        resign(csr('rsa2048', '/CN=V2'), 'rsa2048', (cri) => {
          cri.version = 1;
        }),
      rule: RULE_VERSION,
      popValid: true,
    },
    {
      name: 'unknown critical extension requested',
      make: () => csr('rsa2048', '/CN=Crit', '-addext', '1.2.3.4=critical,DER:0500'),
      rule: RULE_UNKNOWN_CRITICAL,
      popValid: true,
      message: /1\.2\.3\.4/,
    },
    {
      name: 'extension requested twice (re-signed)',
      make: () =>
        resign(csr('rsa2048', '/CN=Dup', ...SUB_CA_EXTS), 'rsa2048', (cri) =>
          addExtension(
            cri,
            new Extension({
              extnID: '2.5.29.19',
              critical: true,
              extnValue: new OctetString(Buffer.from('3003010100', 'hex')),
            }),
          ),
        ),
      rule: RULE_DUPLICATE_EXTENSION,
      popValid: true,
      message: /basicConstraints/,
    },
    {
      name: 'signature BIT STRING with unused bits',
      make: () => {
        const der = csr('rsa2048', '/CN=Bits');
        // The signature is the last element: 03 82 01 01 <unused bits> <256 bytes>.
        const copy = Buffer.from(der);
        assert.equal(copy[copy.length - 257], 0x00);
        copy[copy.length - 257] = 0x01;
        return copy;
      },
      rule: RULE_SIGNATURE_BITS,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const der = c.make();
      const i = inspectCsr(der);
      const hit = i.problems.find((p) => p.rule === c.rule);
      assert.ok(hit, `expected rule "${c.rule}", got ${JSON.stringify(i.problems)}`);
      if (c.message) assert.match(hit.message, c.message);
      if (c.popValid !== undefined) assert.equal(i.signatureValid, c.popValid);
      assert.throws(
        () => acceptCsr(der),
        (e: unknown) => {
          assert.ok(e instanceof CaError);
          assert.equal(e.code, 'CSR_REJECTED');
          assert.ok(e.message.includes(`[${c.rule}]`), e.message);
          assert.deepEqual(e.details.problems, i.problems);
          return true;
        },
      );
      assert.match(formatCsrInspection(i), new RegExp(`\\[${c.rule.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\]`));
    });
  }
});

describe('inspectCsr: not a PKCS#10 at all is CSR_MALFORMED', () => {
  const pseudoRandom = (n: number): Buffer => {
    const out: Buffer[] = [];
    let h = Buffer.from('rootca csr fuzz');
    while (out.length * 32 < n) {
      h = createHash('sha256').update(h).digest();
      out.push(h);
    }
    return Buffer.concat(out).subarray(0, n);
  };
  const cases: { name: string; make: () => Buffer | Uint8Array; message: RegExp }[] = [
    { name: 'empty input', make: () => Buffer.alloc(0), message: /empty/ },
    { name: 'truncated DER', make: () => csr('p256', '/CN=T').subarray(0, -10), message: /truncated/ },
    { name: 'truncated to two bytes', make: () => csr('p256', '/CN=T').subarray(0, 2), message: /truncated/ },
    {
      name: 'trailing garbage',
      make: () => Buffer.concat([csr('p256', '/CN=T'), Buffer.from([0, 0, 1])]),
      message: /3 trailing byte/,
    },
    { name: 'random bytes', make: () => pseudoRandom(300), message: /not a PKCS#10/ },
    {
      name: 'random bytes behind a SEQUENCE tag',
      make: () => Buffer.concat([Buffer.from([0x30, 0x82, 0x01, 0x00]), pseudoRandom(256)]),
      message: /not a PKCS#10/,
    },
    {
      name: 'indefinite length (BER)',
      make: () => Buffer.from('3080020100 0000'.replace(/ /g, ''), 'hex'),
      message: /indefinite length/,
    },
    {
      name: 'an X.509 certificate instead',
      make: () =>
        openssl('req', '-new', '-x509', '-key', key('p256'), '-subj', '/CN=Cert', '-days', '1', '-outform', 'DER'),
      message: /certificationRequestInfo has 8 elements, expected 4/,
    },
    {
      name: 'PEM with another label',
      make: () => openssl('pkey', '-in', key('p256'), '-pubout'),
      message: /expected a PEM "CERTIFICATE REQUEST" block.*found a "PUBLIC KEY" block/,
    },
    {
      name: 'PEM with broken base64',
      make: () => Buffer.from('-----BEGIN CERTIFICATE REQUEST-----\nMIIB$$$=\n-----END CERTIFICATE REQUEST-----\n'),
      message: /not valid base64/,
    },
    {
      name: 'PEM holding a truncated CSR',
      make: () => Buffer.from(derToPem(csr('p256', '/CN=T').subarray(0, 40), 'CERTIFICATE REQUEST')),
      message: /truncated/,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const bytes = c.make();
      for (const fn of [inspectCsr, acceptCsr]) {
        assert.throws(
          () => fn(bytes),
          (e: unknown) => {
            assert.ok(e instanceof CaError, String(e));
            assert.equal(e.code, 'CSR_MALFORMED');
            assert.match(e.message, c.message);
            return true;
          },
        );
      }
    });
  }
});

describe('PEM and DER inputs', () => {
  test('DER, PEM, CRLF PEM, PEM after `openssl req -text` and the legacy label read the same', () => {
    const der = csr('p256', '/CN=Formats');
    writeFileSync(join(dir, 'formats.der'), der);
    const pem = openssl('req', '-inform', 'DER', '-in', 'formats.der').toString();
    const withText = openssl('req', '-inform', 'DER', '-in', 'formats.der', '-text').toString();
    const legacy = pem.replace(/CERTIFICATE REQUEST/g, 'NEW CERTIFICATE REQUEST');
    const inputs: [string, Uint8Array][] = [
      ['DER', der],
      ['PEM', Buffer.from(pem)],
      ['PEM with CRLF', Buffer.from(pem.replace(/\n/g, '\r\n'))],
      [
        'PEM indented, no final newline',
        Buffer.from(
          pem
            .trim()
            .split('\n')
            .map((l) => `  ${l}`)
            .join('\n'),
        ),
      ],
      ['openssl req -text', Buffer.from(withText)],
      ['NEW CERTIFICATE REQUEST', Buffer.from(legacy)],
      [
        'Uint8Array view into a larger buffer',
        (() => {
          const big = Buffer.concat([Buffer.from('xx'), der, Buffer.from('yy')]);
          return new Uint8Array(big.buffer, big.byteOffset + 2, der.length);
        })(),
      ],
    ];
    assert.match(withText, /^Certificate Request:/);
    for (const [name, bytes] of inputs) {
      const i: CsrInspection = acceptCsr(bytes);
      assert.deepEqual(i.der, der, name);
      assert.equal(i.requested.subjectText, 'CN=Formats', name);
    }
  });
});

describe('pem.ts', () => {
  test('derToPem writes 64-character lines and a trailing newline; pemToDer reads it back', () => {
    const der = Buffer.from(Array.from({ length: 200 }, (_, k) => k));
    const pem = derToPem(der, 'TEST');
    const lines = pem.split('\n');
    assert.equal(lines[0], '-----BEGIN TEST-----');
    assert.equal(lines.at(-1), '');
    assert.equal(lines.at(-2), '-----END TEST-----');
    for (const l of lines.slice(1, -3)) assert.equal(l.length, 64);
    assert.deepEqual(pemToDer(pem, 'TEST'), der);
    assert.deepEqual(pemToDer(pem.replace(/\n/g, '\r\n'), 'TEST'), der);
    assert.deepEqual(readDerOrPem(Buffer.from(pem), 'TEST'), der);
  });
  test('pemToDer refuses with the expected label named', () => {
    const pem = derToPem(Buffer.from([0x30, 0x00]), 'X509 CRL');
    const check = (text: string, re: RegExp) =>
      assert.throws(
        () => pemToDer(text, 'CERTIFICATE'),
        (e: unknown) =>
          e instanceof CaError && e.code === 'PEM_INVALID' && re.test(e.message) && /CERTIFICATE/.test(e.message),
      );
    check(pem, /found a "X509 CRL" block/);
    check('hello', /found no PEM block/);
    check('-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n', /empty/);
    check('-----BEGIN CERTIFICATE-----\nMA=\n-----END CERTIFICATE-----\n', /not valid base64/);
    check('-----BEGIN CERTIFICATE-----\nMAB=\n-----END CERTIFICATE-----\n', /not canonical/);
    check('-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n\nMAA=\n-----END CERTIFICATE-----\n', /headers/);
    check(derToPem(Buffer.from([0x30, 0x00]), 'CERTIFICATE').repeat(2), /exactly one/);
  });
  test('readDerOrPem passes DER and non-PEM bytes through', () => {
    assert.deepEqual(readDerOrPem(Buffer.from([0x30, 0x00]), 'X'), Buffer.from([0x30, 0x00]));
    assert.deepEqual(readDerOrPem(Buffer.from('plain'), 'X'), Buffer.from('plain'));
  });
});
