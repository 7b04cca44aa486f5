/**
 * `npm start` as a newcomer runs it (issue 20.1): the demo comes up, lists every person it
 * made, and a signal to npm's pid alone (what a process manager sends) stops the whole tree:
 * no `node bin/demo.mjs` left serving. Real npm, real processes, port 0.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEMO_PEOPLE } from '../src/installation/demo.ts';
import { REPO, tempDir } from './helpers.ts';

/** Pids of every descendant of `pid` (from ps, so it sees through `sh -c`). */
function descendants(pid: number): number[] {
  const rows = spawnSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of rows)
      if (pp === p) {
        out.push(c!);
        walk(c!);
      }
  };
  walk(pid);
  return out;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(what: string, ok: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Starts `npm start` on port 0 and resolves when the demo says it is ready. */
async function npmStart(home: string): Promise<{ npm: ChildProcess; url: string; output: () => string }> {
  // detached: npm leads its own process group, as a shell's foreground job does.
  const npm = spawn('npm', ['start'], {
    cwd: REPO,
    env: { ...process.env, PORT: '0', ROOTCA_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  npm.stdout!.on('data', (c) => {
    out += c;
  });
  npm.stderr!.on('data', (c) => {
    out += c;
  });
  await until('the demo to be ready', () => /\(ready in [\d.]+ s/.test(out), 240_000);
  return { npm, url: /Repository: +(http:\/\/\S+)\//.exec(out)![1]!, output: () => out };
}

const serving = async (url: string): Promise<boolean> =>
  fetch(`${url}/healthz`).then(
    () => true,
    () => false,
  );

describe('npm start', { timeout: 300_000 }, () => {
  const home = join(tempDir('rootca-demo-'), 'home');

  // SIGTERM to npm's pid alone is what a process manager sends; SIGINT to the process group is
  // Ctrl-C in a terminal; SIGHUP to the group is the terminal closing.
  const cases = [
    ['SIGTERM', 'npm alone'],
    ['SIGINT', 'the process group'],
    ['SIGHUP', 'the process group'],
  ] as const;
  for (const [signal, to] of cases) {
    it(`comes up, lists everyone, and stops with its children on ${signal} to ${to}`, async () => {
      const { npm, url, output } = await npmStart(home);
      for (const p of DEMO_PEOPLE)
        assert.match(output(), new RegExp(`^  ${p.name} +${p.displayName.replace(/[()]/g, '\\$&')}$`, 'm'));
      assert.ok(await serving(url), 'the demo answers before the signal');
      const tree = descendants(npm.pid!);
      assert.ok(tree.length >= 1, 'npm runs the demo as a child');
      process.kill(to === 'npm alone' ? npm.pid! : -npm.pid!, signal);
      await until('every process of the tree to exit', () => !alive(npm.pid!) && tree.every((p) => !alive(p)), 15_000);
      assert.equal(await serving(url), false, 'nothing serves on the demo port any more');
    });
  }
});
