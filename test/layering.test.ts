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
import { USE_CASES } from './src-folders.ts';

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
  return [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1] ?? m[2]);
}

/**
 * Which imports each module may use (DESIGN.md "Modules"): the src/ modules (or top-level
 * files) a relative import may land in, and which packages it may name.
 */
interface Rule {
  modules: string[];
  packages: (spec: string) => boolean;
}
const RULES: Record<string, Rule> = {
  pki: {
    modules: ['pki', 'errors.ts'],
    packages: (s) => s.startsWith('@peculiar/asn1-') || s === 'node:crypto' || s === 'node:buffer',
  },
  lint: {
    modules: ['lint', 'pki', 'errors.ts'],
    packages: (s) => s.startsWith('@peculiar/asn1-') || s === 'node:crypto',
  },
  keys: {
    modules: ['keys', 'pki', 'errors.ts'],
    packages: (s) =>
      s.startsWith('node:') ||
      s === 'shamir-secret-sharing' ||
      s.startsWith('pkcs11js') ||
      s.startsWith('graphene-pk11'),
  },
  store: {
    modules: ['store', 'pki', 'errors.ts'],
    packages: (s) => s.startsWith('node:') || ['better-sqlite3', 'pg', 'kysely'].includes(s),
  },
  audit: {
    modules: ['audit', 'store', 'pki', 'util', 'errors.ts', 'clock.ts'],
    packages: (s) => s.startsWith('node:'),
  },
  // keys/ only for verifying an operator's signature over a manifest (verifyCredentialSignature).
  archive: {
    modules: ['archive', 'store', 'audit', 'pki', 'keys', 'util', 'errors.ts', 'clock.ts'],
    packages: (s) => s.startsWith('node:') || s === 'better-sqlite3',
  },
  server: {
    modules: ['server', 'publish', 'store', 'pki', 'lint', 'audit', 'util', 'config', 'errors.ts', 'clock.ts'],
    packages: () => true,
  },
  publish: { modules: ['publish', 'pki', 'lint', 'store', 'util', 'errors.ts', 'clock.ts'], packages: () => true },
  errors: { modules: ['errors'], packages: () => false },
  util: { modules: ['util', 'errors.ts'], packages: (s) => s.startsWith('node:') },
  config: {
    modules: ['config', 'pki', 'errors.ts'],
    packages: (s) => s.startsWith('node:') || ['yaml', 'zod'].includes(s),
  },
};

/**
 * The modules below the offline use cases (USE_CASES, a folder per operation, DESIGN.md
 * "Modules"): a use case may use these and the other use cases, never `cli/` or `server/`, and
 * never a database driver or query builder (every SQL statement lives in `store/`, CONVENTIONS 13).
 */
const LOWER = [
  'store',
  'keys',
  'audit',
  'archive',
  'pki',
  'lint',
  'publish',
  'util',
  'config',
  'errors',
  'errors.ts',
  'clock.ts',
];
const SQL_PACKAGES = ['better-sqlite3', 'pg', 'kysely'];
for (const m of USE_CASES) RULES[m] = { modules: [...USE_CASES, ...LOWER], packages: (s) => !SQL_PACKAGES.includes(s) };

/**
 * Every folder or top-level file of src/ that the rules may name. A folder without sources (one
 * a move left empty on disk; git keeps no empty folders) is no module.
 */
const SRC_ENTRIES = new Set(
  readdirSync(SRC).filter((n) =>
    statSync(join(SRC, n)).isDirectory() ? sources(join(SRC, n)).length > 0 : !n.endsWith('.test.ts'),
  ),
);

/** The src/ module a relative import lands in ('pki', 'errors.ts', …), or undefined for a package. */
function targetModule(file: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  return relative(SRC, resolve(dirname(file), spec)).split(sep)[0];
}

function violations(module: string, rule: Rule): string[] {
  return sources(join(SRC, module)).flatMap((f) =>
    importsOf(f)
      .filter((spec) => {
        const target = targetModule(f, spec);
        return target === undefined ? !rule.packages(spec) : !rule.modules.includes(target);
      })
      .map((spec) => `${relative(REPO, f)} imports ${spec}`),
  );
}

/** Strongly connected groups of files (Tarjan): each group of two or more is an import cycle. */
function importCycles(files: string[]): string[][] {
  const edges = new Map(
    files.map((f) => [
      f,
      importsOf(f)
        .filter((s) => s.startsWith('.'))
        .map((s) => resolve(dirname(f), s)),
    ]),
  );
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of edges.get(v) ?? []) {
      if (!edges.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        group.push(w);
      } while (w !== v);
      if (group.length > 1) cycles.push(group.map((g) => relative(REPO, g)).sort());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return cycles;
}

/** Calls that read the clock or draw randomness: not allowed in the pure core. */
const IMPURE =
  /\bDate\.now\(|new Date\(\s*\)|Math\.random\(|\brandomBytes\b|\brandomFill|\brandomUUID\b|getRandomValues|\bgenerateKeyPair|\bprocess\.(env|argv|cwd)\b/;

describe('CONVENTIONS 12 layering', () => {
  it('every folder a rule names exists (a rule about a folder that is gone guards nothing)', () => {
    const named = new Set([...Object.keys(RULES), ...Object.values(RULES).flatMap((r) => r.modules)]);
    assert.deepEqual(
      [...named].filter((m) => !SRC_ENTRIES.has(m)),
      [],
    );
  });

  it('every folder of src/ has a rule, but cli/ (the top: it may import everything)', () => {
    const folders = [...SRC_ENTRIES].filter((n) => !n.endsWith('.ts') && n !== 'cli');
    assert.deepEqual(
      folders.filter((f) => !RULES[f]),
      [],
    );
  });

  for (const [module, rule] of Object.entries(RULES)) {
    it(`src/${module}/ imports only what DESIGN.md allows`, () => {
      assert.deepEqual(violations(module, rule), []);
    });
  }

  for (const module of ['pki', 'lint']) {
    it(`src/${module}/ never reads the clock, randomness or the environment`, () => {
      let files: string[] = [];
      try {
        files = sources(join(SRC, module));
      } catch {
        return;
      }
      const bad = files.flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .map((line, i) => ({ line, i }))
          .filter(({ line }) => IMPURE.test(line) && !/^\s*(\*|\/\/)/.test(line))
          .map(({ line, i }) => `${relative(REPO, f)}:${i + 1}: ${line.trim()}`),
      );
      assert.deepEqual(bad, []);
    });
  }

  it('every SQL statement lives in src/store/ (CONVENTIONS 13: a use case calls a repository, never SQL)', () => {
    const SQL = /\.prepare\(|\.exec\(\s*['"`]|\.pragma\(|\bsql`|\bsql<|\bsql\.(raw|ref|lit)\(/;
    const bad = sources(SRC)
      .filter((f) => !f.startsWith(join(SRC, 'store') + sep))
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .map((line, i) => ({ line, i }))
          .filter(({ line }) => SQL.test(line) && !/^\s*(\*|\/\/)/.test(line))
          .map(({ line, i }) => `${relative(REPO, f)}:${i + 1}: ${line.trim()}`),
      );
    assert.deepEqual(bad, []);
  });

  it('no import cycle among the files of src/ (static, dynamic and type imports alike)', () => {
    assert.deepEqual(importCycles(sources(SRC)), []);
  });

  it('nothing imports src/cli/', () => {
    const bad = sources(SRC)
      .filter((f) => !f.includes('/cli/'))
      .flatMap((f) =>
        importsOf(f)
          .filter((s) => s.includes('/cli/'))
          .map((s) => `${relative(REPO, f)} imports ${s}`),
      );
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
