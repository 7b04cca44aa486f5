/**
 * CONVENTIONS 12: the layering of DESIGN.md is checked, not hoped for. `pki/` and `lint/` stay
 * pure (no fs, network, clock or randomness); `server/` never reaches a root key; nothing
 * imports `cli/`.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { REPO } from './helpers.ts';

const SRC = join(REPO, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return sources(p);
    return n.endsWith('.ts') && !n.endsWith('.test.ts') ? [p] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]);
}

/**
 * Which imports each module may use (DESIGN.md "Modules"): the src/ modules (or top-level
 * files) a relative import may land in, and which packages it may name.
 */
interface Rule { modules: string[]; packages: (spec: string) => boolean }
const RULES: Record<string, Rule> = {
  pki: { modules: ['pki', 'errors.ts'], packages: (s) => s.startsWith('@peculiar/asn1-') || s === 'node:crypto' || s === 'node:buffer' },
  lint: { modules: ['lint', 'pki', 'errors.ts'], packages: (s) => s.startsWith('@peculiar/asn1-') || s === 'node:crypto' },
  keys: { modules: ['keys', 'pki', 'errors.ts'], packages: (s) => s.startsWith('node:') || s === 'shamir-secret-sharing' || s.startsWith('pkcs11js') || s.startsWith('graphene-pk11') },
  store: { modules: ['store', 'pki', 'errors.ts'], packages: (s) => s.startsWith('node:') || ['better-sqlite3', 'pg', 'kysely'].includes(s) },
  audit: { modules: ['audit', 'store', 'pki', 'util', 'errors.ts', 'clock.ts'], packages: (s) => s.startsWith('node:') },
  // keys/ only for verifying an operator's signature over a manifest (verifyCredentialSignature).
  archive: { modules: ['archive', 'store', 'audit', 'pki', 'keys', 'util', 'errors.ts', 'clock.ts'], packages: (s) => s.startsWith('node:') || s === 'better-sqlite3' },
  server: { modules: ['server', 'publish', 'store', 'pki', 'lint', 'audit', 'util', 'config', 'errors.ts', 'clock.ts'], packages: () => true },
  publish: { modules: ['publish', 'pki', 'lint', 'store', 'util', 'errors.ts', 'clock.ts'], packages: () => true },
};

/** The src/ module a relative import lands in ('pki', 'errors.ts', …), or undefined for a package. */
function targetModule(file: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  return relative(SRC, resolve(dirname(file), spec)).split(sep)[0];
}

function violations(module: string, rule: Rule): string[] {
  let files: string[];
  try {
    files = sources(join(SRC, module));
  } catch {
    return []; // the module does not exist yet
  }
  return files.flatMap((f) => importsOf(f).filter((spec) => {
    const target = targetModule(f, spec);
    return target === undefined ? !rule.packages(spec) : !rule.modules.includes(target);
  }).map((spec) => `${relative(REPO, f)} imports ${spec}`));
}

/** Calls that read the clock or draw randomness: not allowed in the pure core. */
const IMPURE = /\bDate\.now\(|new Date\(\s*\)|Math\.random\(|\brandomBytes\b|\brandomFill|\brandomUUID\b|getRandomValues|\bgenerateKeyPair|\bprocess\.(env|argv|cwd)\b/;

describe('CONVENTIONS 12 layering', () => {
  for (const [module, rule] of Object.entries(RULES)) {
    it(`src/${module}/ imports only what DESIGN.md allows`, () => {
      assert.deepEqual(violations(module, rule), []);
    });
  }

  for (const module of ['pki', 'lint']) {
    it(`src/${module}/ never reads the clock, randomness or the environment`, () => {
      let files: string[] = [];
      try { files = sources(join(SRC, module)); } catch { return; }
      const bad = files.flatMap((f) => readFileSync(f, 'utf8').split('\n').map((line, i) => ({ line, i }))
        .filter(({ line }) => IMPURE.test(line) && !/^\s*(\*|\/\/)/.test(line))
        .map(({ line, i }) => `${relative(REPO, f)}:${i + 1}: ${line.trim()}`));
      assert.deepEqual(bad, []);
    });
  }

  it('nothing imports src/cli/', () => {
    const bad = sources(SRC).filter((f) => !f.includes('/cli/')).flatMap((f) => importsOf(f).filter((s) => s.includes('/cli/')).map((s) => `${relative(REPO, f)} imports ${s}`));
    assert.deepEqual(bad, []);
  });

  it('the checker sees imports (it would catch a violation)', () => {
    const imports = importsOf(join(SRC, 'installation', 'installation.ts'));
    assert.ok(imports.includes('node:fs'));
    assert.equal(RULES.pki.packages('node:fs'), false);
    assert.equal(targetModule(join(SRC, 'lint', 'crl', 'x.ts'), '../../pki/crl.ts'), 'pki');
    assert.equal(targetModule(join(SRC, 'server', 'x.ts'), '../issuance/issuance.ts'), 'issuance');
    assert.ok(IMPURE.test('const t = new Date();'));
  });
});
