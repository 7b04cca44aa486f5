/**
 * Issue 18 item 5: every relative link and #anchor in README.md and docs/*.md resolves, no
 * link leaves the repository, and no file has two headings with the same anchor.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import GithubSlugger from 'github-slugger';
import { marked, type Token } from 'marked';
import { REPO } from './helpers.ts';

const FILES = [
  'README.md',
  ...readdirSync(join(REPO, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Every token, depth first (links sit inside paragraphs, lists and tables). */
function* walk(tokens: readonly Token[]): Generator<Token> {
  for (const t of tokens) {
    yield t;
    const nested = t as Token & {
      tokens?: Token[];
      items?: Token[];
      header?: { tokens: Token[] }[];
      rows?: { tokens: Token[] }[][];
    };
    if (nested.tokens) yield* walk(nested.tokens);
    if (nested.items) yield* walk(nested.items);
    if (nested.header) for (const cell of nested.header) yield* walk(cell.tokens);
    if (nested.rows) for (const row of nested.rows) for (const cell of row) yield* walk(cell.tokens);
  }
}

const tokensOf = (file: string) => marked.lexer(readFileSync(join(REPO, file), 'utf8'));

/** The anchors GitHub gives the headings of a file (a repeated heading gets -1, -2 …). */
function anchors(file: string): string[] {
  const slugger = new GithubSlugger();
  return [...walk(tokensOf(file))]
    .filter((t) => t.type === 'heading')
    .map((t) => slugger.slug((t as Token & { text: string }).text.replace(/`/g, '')));
}

function links(file: string): string[] {
  return [...walk(tokensOf(file))].filter((t) => t.type === 'link').map((t) => (t as Token & { href: string }).href);
}

const external = (href: string) => /^[a-z][a-z0-9+.-]*:/i.test(href);

describe('README.md and docs/ links', () => {
  it('finds the files and their links (the check sees something)', () => {
    assert.ok(FILES.length > 5);
    assert.ok(links('README.md').some((h) => h.startsWith('docs/')));
  });

  for (const file of FILES) {
    it(`${file}: relative links and anchors resolve inside the repository`, () => {
      const problems: string[] = [];
      for (const href of links(file)) {
        if (external(href)) continue;
        const [path, anchor] = href.split('#', 2) as [string, string | undefined];
        const target = path ? resolve(dirname(join(REPO, file)), decodeURIComponent(path)) : join(REPO, file);
        const inRepo = relative(REPO, target);
        if (inRepo.startsWith('..') || inRepo.startsWith(sep)) {
          problems.push(`${href}: leaves the repository`);
          continue;
        }
        const name = inRepo.split(sep).join('/');
        if (!existsSync(target)) {
          problems.push(`${href}: no such file`);
          continue;
        }
        if (anchor && name.endsWith('.md') && !anchors(name).includes(anchor))
          problems.push(`${href}: no heading with anchor #${anchor} in ${name}`);
      }
      assert.deepEqual(problems, []);
    });

    it(`${file}: no two headings share an anchor`, () => {
      const seen = anchors(file);
      const repeated = seen.filter((a) => /-\d+$/.test(a) && seen.includes(a.replace(/-\d+$/, '')));
      assert.deepEqual(repeated, []);
    });
  }
});
