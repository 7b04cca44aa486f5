/**
 * CONVENTIONS 12: the layering of DESIGN.md is checked, not hoped for. `pki/` and `lint/` stay
 * pure (no fs, network, clock or randomness); `server/` never reaches a root key; nothing
 * imports `cli/`.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
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

/** Which imports each module may use (DESIGN.md "Modules"), as predicates on the specifier. */
const RULES: Record<string, (spec: string) => boolean> = {
  pki: (s) => s.startsWith('./') || s === '../errors.ts' || s.startsWith('@peculiar/asn1-') || s === 'node:crypto' || s === 'node:buffer',
  lint: (s) => s.startsWith('./') || s.startsWith('../pki/') || s === '../errors.ts' || s.startsWith('@peculiar/asn1-') || s === 'node:crypto',
  keys: (s) => s.startsWith('./') || s.startsWith('../pki/') || s === '../errors.ts' || s.startsWith('node:') || s === 'shamir-secret-sharing' || s.startsWith('pkcs11js') || s.startsWith('graphene-pk11'),
  store: (s) => s.startsWith('./') || s.startsWith('../pki/') || s === '../errors.ts' || s.startsWith('node:') || s === 'better-sqlite3' || s === 'pg' || s === 'kysely',
  audit: (s) => s.startsWith('./') || /^\.\.\/(store|pki|util)\//.test(s) || ['../errors.ts', '../clock.ts'].includes(s) || s.startsWith('node:'),
  server: (s) => !/^\.\.\/(ca|keys|cli)\//.test(s),
  publish: (s) => !/^\.\.\/(ca|keys|cli|server)\//.test(s),
};

/** Calls that read the clock or draw randomness: not allowed in the pure core. */
const IMPURE = /\bDate\.now\(|new Date\(\s*\)|Math\.random\(|\brandomBytes\b|\brandomFill|\brandomUUID\b|getRandomValues|\bgenerateKeyPair|\bprocess\.(env|argv|cwd)\b/;

describe('CONVENTIONS 12 layering', () => {
  for (const [module, allowed] of Object.entries(RULES)) {
    it(`src/${module}/ imports only what DESIGN.md allows`, () => {
      let dir: string[];
      try {
        dir = sources(join(SRC, module));
      } catch {
        return; // the module does not exist yet
      }
      const bad = dir.flatMap((f) => importsOf(f).filter((s) => !allowed(s)).map((s) => `${relative(REPO, f)} imports ${s}`));
      assert.deepEqual(bad, []);
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
    const imports = importsOf(join(SRC, 'ca', 'root-ceremony.ts'));
    assert.ok(imports.includes('node:fs'));
    assert.equal(RULES.pki('node:fs'), false);
    assert.ok(IMPURE.test('const t = new Date();'));
  });
});
