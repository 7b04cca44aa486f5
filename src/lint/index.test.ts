/**
 * The lint module's API, its registry (every lint file cited and registered), its purity, and
 * the four real SECOM root certificates.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { CaError } from '../errors.ts';
import {
  ALL_LINTS,
  PROFILE_NAMES,
  assertNoLintErrors,
  formatFindings,
  lintCertificate,
  lintErrors,
  lintsForProfile,
  type Lint,
  type LintContext,
  type LintFinding,
} from './index.ts';

const LINT_DIR = dirname(fileURLToPath(import.meta.url));
const SECOM_DIR = join(LINT_DIR, '../../../shared/reference/secom-roots');

function readPem(path: string): Uint8Array {
  const b64 = readFileSync(path, 'utf8')
    .replace(/-----[^-]+-----/g, '')
    .replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(b64, 'base64'));
}

function rootContext(der: Uint8Array, allowLegacySha1: boolean, now = new Date('2026-01-01T00:00:00Z')): LintContext {
  return { profile: 'root', issuer: AsnConvert.parse(der, Certificate), allowedPolicyOids: [], allowLegacySha1, now };
}

const lintFiles = readdirSync(LINT_DIR)
  .filter((n) => /^[ew]_[a-z0-9_]+\.ts$/.test(n) && !n.endsWith('.test.ts'))
  .sort();
const sourceFiles = readdirSync(LINT_DIR)
  .filter((n) => n.endsWith('.ts') && !n.endsWith('.test.ts'))
  .sort();

/** The text of the comments in a TypeScript file, whitespace and comment stars collapsed. */
function commentText(source: string): string {
  const blocks = [...source.matchAll(/\/\*[\s\S]*?\*\//g), ...source.matchAll(/\/\/[^\n]*/g)].map((m) => m[0]);
  return normalise(
    blocks
      .join(' ')
      .replace(/^\s*\*+/gm, ' ')
      .replace(/\/\*+|\*+\/|\/\//g, ' '),
  );
}
function normalise(s: string): string {
  return s.replace(/\\'/g, "'").replace(/\s+/g, ' ').trim();
}

describe('R-1 the real SECOM root certificates lint as roots', () => {
  const files = readdirSync(SECOM_DIR)
    .filter((n) => n.endsWith('.crt'))
    .sort();

  it('finds the four reference roots', () => {
    assert.equal(files.length, 4);
  });

  for (const file of files) {
    const legacy = file === 'Security_Communication_Root_CA.crt';
    it(`${file} has no error findings${legacy ? ' (with the R-1.3 legacy override)' : ''}`, () => {
      const findings = lintCertificate(
        readPem(join(SECOM_DIR, file)),
        rootContext(readPem(join(SECOM_DIR, file)), legacy),
      );
      assert.deepEqual(lintErrors(findings), [], formatFindings(findings));
    });
  }

  it("RootCA1's non-critical keyUsage is a warning only", () => {
    const der = readPem(join(SECOM_DIR, 'Security_Communication_Root_CA.crt'));
    const ku = lintCertificate(der, rootContext(der, true)).filter(
      (f) => f.lint === 'e_key_usage_missing_or_not_critical',
    );
    assert.equal(ku.length, 1);
    assert.equal(ku[0]!.severity, 'warning');
  });

  it('R-1.3 RootCA1 without the legacy override fails the SHA-1 lint, and only that lint', () => {
    const der = readPem(join(SECOM_DIR, 'Security_Communication_Root_CA.crt'));
    const errors = lintErrors(lintCertificate(der, rootContext(der, false)));
    assert.deepEqual([...new Set(errors.map((f) => f.lint))], ['e_sha1_signature']);
  });

  it('the roots issued before BR 7.1 (serial 0) get serial warnings, not errors', () => {
    const der = readPem(join(SECOM_DIR, 'Security_Communication_RootCA2.crt'));
    const serial = lintCertificate(der, rootContext(der, false)).filter((f) => f.lint.startsWith('e_serial_number'));
    assert.ok(serial.length >= 1);
    assert.ok(serial.every((f) => f.severity === 'warning'));
  });
});

describe('lint registry: one cited lint per file (CONVENTIONS 2)', () => {
  it('every lint file exports exactly one lint, named after the file and listed in ALL_LINTS', async () => {
    assert.ok(lintFiles.length >= 30, `only ${lintFiles.length} lint files`);
    for (const file of lintFiles) {
      const mod = (await import(`./${file}`)) as Record<string, unknown>;
      const lints = Object.values(mod).filter(
        (v): v is Lint => typeof v === 'object' && v !== null && typeof (v as Lint).run === 'function',
      );
      assert.equal(lints.length, 1, `${file} exports ${lints.length} lints`);
      const lint = lints[0]!;
      assert.equal(lint.name, basename(file, '.ts'), `${file} exports lint ${lint.name}`);
      assert.ok(ALL_LINTS.includes(lint), `${lint.name} is not in ALL_LINTS`);
    }
    assert.equal(ALL_LINTS.length, lintFiles.length, 'ALL_LINTS holds a lint without its own file');
  });

  it('names are unique and say their worst severity (e_ may refuse, w_ only warns)', () => {
    assert.equal(new Set(ALL_LINTS.map((l) => l.name)).size, ALL_LINTS.length);
    for (const l of ALL_LINTS) assert.match(l.name, /^[ew]_[a-z0-9_]+$/);
  });

  for (const lint of ALL_LINTS) {
    it(`${lint.name} cites one quoted line with its section, in the citation and in a comment`, () => {
      const m = /^((?:RFC \d+|BR|CPS|R-\d+(?:\.\d+)*|Mozilla Root Store Policy)[^:]*):[^"]*"(.+)"/.exec(lint.citation);
      assert.ok(m, `citation of ${lint.name} is not 'SOURCE SECTION: "quote"': ${lint.citation}`);
      assert.match(m[1]!, /\d/, `citation of ${lint.name} has no section number`);
      const comments = commentText(readFileSync(join(LINT_DIR, `${lint.name}.ts`), 'utf8'));
      assert.ok(comments.includes(normalise(m[1]!)), `${lint.name}.ts has no comment citing ${m[1]}`);
      const quoteStart = normalise(m[2]!).slice(0, 40);
      assert.ok(comments.includes(quoteStart), `${lint.name}.ts has no comment quoting "${quoteStart}…"`);
      assert.ok(lint.description.length > 10);
      assert.ok(lint.appliesTo.length > 0 && lint.appliesTo.every((p) => PROFILE_NAMES.includes(p)));
    });
  }

  it('every profile has lints', () => {
    for (const p of PROFILE_NAMES) assert.ok(lintsForProfile(p).length > 10);
  });
});

describe('lint purity (CONVENTIONS 3): no files, network, clock or randomness', () => {
  const ALLOWED_IMPORTS = [/^\.\//, /^\.\.\/pki\//, /^\.\.\/errors\.ts$/, /^@peculiar\//];
  const FORBIDDEN = [
    /Date\.now\s*\(/,
    /new\s+Date\s*\(\s*\)/,
    /Math\.random/,
    /performance\.now/,
    /\bprocess\.(env|argv|hrtime|exit|cwd|stdout|stderr|nextTick|uptime)/,
    /getRandomValues|randomBytes|randomUUID|randomInt/,
    /\bfetch\s*\(/,
    /\brequire\s*\(/,
    /\bimport\s*\(/,
  ];

  for (const file of sourceFiles) {
    it(`${file} imports only pure modules and reads no clock or randomness`, () => {
      const src = readFileSync(join(LINT_DIR, file), 'utf8');
      for (const m of src.matchAll(/\bfrom\s+'([^']+)'/g)) {
        assert.ok(
          ALLOWED_IMPORTS.some((re) => re.test(m[1]!)),
          `${file} imports ${m[1]}`,
        );
      }
      for (const m of src.matchAll(/^\s*import\s+'([^']+)'/gm))
        assert.fail(`${file} has a side-effect import of ${m[1]}`);
      for (const re of FORBIDDEN) assert.doesNotMatch(src, re, `${file} uses ${re}`);
    });
  }

  it('linting never calls the clock or the random source at run time', () => {
    const der = readPem(join(SECOM_DIR, 'Security_Communication_RootCA3.crt'));
    const ctx = rootContext(der, false);
    const realNow = Date.now;
    const realRandom = Math.random;
    Date.now = () => {
      throw new Error('Date.now called during linting');
    };
    Math.random = () => {
      throw new Error('Math.random called during linting');
    };
    let findings: LintFinding[];
    try {
      findings = lintCertificate(der, ctx);
    } finally {
      Date.now = realNow;
      Math.random = realRandom;
    }
    assert.deepEqual(lintErrors(findings), []);
  });

  it('is deterministic: the same input gives the same findings', () => {
    const der = readPem(join(SECOM_DIR, 'Security_Communication_Root_CA.crt'));
    assert.deepEqual(lintCertificate(der, rootContext(der, false)), lintCertificate(der, rootContext(der, false)));
  });
});

describe('lint API', () => {
  const der = readPem(join(SECOM_DIR, 'Security_Communication_Root_CA.crt'));

  it('lintErrors keeps only errors', () => {
    const findings = lintCertificate(der, rootContext(der, false));
    assert.ok(findings.some((f) => f.severity === 'warning'));
    assert.ok(lintErrors(findings).every((f) => f.severity === 'error'));
    assert.equal(lintErrors(findings).length, findings.filter((f) => f.severity === 'error').length);
  });

  it('formatFindings lists errors first, each with its citation', () => {
    const text = formatFindings(lintCertificate(der, rootContext(der, false)));
    const lines = text.split('\n');
    assert.match(lines[0]!, /^ERROR\s+e_sha1_signature: /);
    assert.match(lines[1]!, /R-1\.3: "/);
    assert.ok(text.includes('WARNING e_key_usage_missing_or_not_critical'));
    assert.equal(formatFindings([]), 'no lint findings');
  });

  it('assertNoLintErrors throws CERTIFICATE_LINT_FAILED with the findings, and passes warnings', () => {
    const findings = lintCertificate(der, rootContext(der, false));
    assert.throws(
      () => assertNoLintErrors(findings, 'RootCA1'),
      (e: unknown) =>
        e instanceof CaError &&
        e.code === 'CERTIFICATE_LINT_FAILED' &&
        Array.isArray(e.details.findings) &&
        /RootCA1 fails 1 lint/.test(e.message),
    );
    assert.doesNotThrow(() => assertNoLintErrors(findings.filter((f) => f.severity === 'warning')));
  });

  it('an unparsable certificate is an error finding, not an exception', () => {
    const findings = lintCertificate(new Uint8Array([0x30, 0x82, 0xff]), rootContext(der, false));
    assert.equal(findings.length, 1);
    assert.equal(findings[0]!.lint, 'e_der_encoding');
    assert.equal(findings[0]!.severity, 'error');
  });

  it('an unknown profile is a CaError', () => {
    assert.throws(
      () => lintCertificate(der, { ...rootContext(der, false), profile: 'bogus' as 'root' }),
      (e: unknown) => e instanceof CaError && e.code === 'LINT_PROFILE_UNKNOWN',
    );
  });

  it('lintsForProfile runs only the lints that apply', () => {
    assert.ok(lintsForProfile('root').some((l) => l.name === 'e_root_validity_period'));
    assert.ok(!lintsForProfile('subca').some((l) => l.name === 'e_root_validity_period'));
    assert.ok(lintsForProfile('ocsp').some((l) => l.name === 'e_ocsp_nocheck'));
  });
});
