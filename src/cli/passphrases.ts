/**
 * Passphrase sources for the CLI (never the ceremony file, CONVENTIONS 4):
 *   --credential NAME=@FILE    the passphrase is the file's content (one trailing newline dropped)
 *   --credential NAME=env:VAR  the passphrase is in environment variable VAR
 *   ROOTCA_PASSPHRASE_<NAME>   environment variable per operator (NAME upper-cased, other chars -> _)
 *   otherwise, on a terminal, a hidden prompt.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { PassphraseSource } from '../people/participants.ts';
import { UsageError } from '../errors.ts';

/** Where one participant's passphrase comes from: a file or an environment variable, never the command line. */
export type CredentialSpec = { kind: 'file'; path: string } | { kind: 'env'; variable: string };

/** Parses repeated `--credential` values into a map by operator name. */
export function parseCredentialOptions(values: string[]): Map<string, CredentialSpec> {
  const map = new Map<string, CredentialSpec>();
  for (const v of values) {
    const m = /^([a-z][a-z0-9._-]*)=(@(.+)|env:([A-Za-z_][A-Za-z0-9_]*))$/.exec(v);
    // The value may be a passphrase typed by mistake: name the operator, never repeat the rest (issue 14 item 5).
    if (!m)
      throw new UsageError(
        'CREDENTIAL_OPTION_INVALID',
        `--credential ${redactedCredential(v)}: expected NAME=@FILE or NAME=env:VARIABLE (a passphrase itself never goes on the command line)`,
      );
    if (map.has(m[1])) throw new UsageError('CREDENTIAL_OPTION_INVALID', `--credential names ${m[1]} twice`);
    map.set(m[1], m[3] ? { kind: 'file', path: m[3] } : { kind: 'env', variable: m[4] });
  }
  return map;
}

/** `alice=…`: what the operator typed after the name is not shown; it may be the passphrase. */
function redactedCredential(v: string): string {
  const name = /^([a-z][a-z0-9._-]*)=/.exec(v)?.[1];
  return name ? `${name}=…` : '…';
}

/** ROOTCA_PASSPHRASE_<NAME>: the variable a passphrase is taken from when no --credential names it. */
export function envVariableFor(operator: string): string {
  return `ROOTCA_PASSPHRASE_${operator.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** What `cliPassphraseSource` draws on, in order. */
export interface PassphraseSourceOptions {
  credentials: Map<string, CredentialSpec>;
  env?: NodeJS.ProcessEnv;
  /** Prompt on the terminal for operators with no other source. */
  interactive?: boolean;
}

/** The command line's passphrase source: --credential, then the environment, then a prompt on a terminal. */
export function cliPassphraseSource(o: PassphraseSourceOptions): PassphraseSource {
  const env = o.env ?? process.env;
  return {
    async get(operator, prompt) {
      const spec = o.credentials.get(operator);
      if (spec?.kind === 'file') {
        let text: Buffer;
        try {
          text = readFileSync(spec.path);
        } catch (e) {
          throw new UsageError(
            'CREDENTIAL_UNAVAILABLE',
            `--credential ${operator}=@${spec.path}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
          );
        }
        return stripNewline(text);
      }
      if (spec?.kind === 'env') {
        const v = env[spec.variable];
        if (v === undefined)
          throw new UsageError(
            'CREDENTIAL_UNAVAILABLE',
            `--credential ${operator}=env:${spec.variable}: the variable is not set`,
          );
        return Buffer.from(v, 'utf8');
      }
      const fromEnv = env[envVariableFor(operator)];
      if (fromEnv !== undefined) return Buffer.from(fromEnv, 'utf8');
      if (o.interactive && process.stdin.isTTY) {
        const answer = await hiddenPrompt(`${prompt} (Enter to skip): `);
        return answer.length ? answer : undefined;
      }
      return undefined;
    },
  };
}

function stripNewline(b: Buffer): Buffer {
  let end = b.length;
  if (end > 0 && b[end - 1] === 0x0a) end--;
  if (end > 0 && b[end - 1] === 0x0d) end--;
  return b.subarray(0, end);
}

/** Reads a line from the terminal without echoing it. */
export function hiddenPrompt(question: string): Promise<Buffer> {
  return new Promise((resolvePromise) => {
    let muted = false;
    const output = new Writable({
      write(chunk, _enc, cb) {
        if (!muted) process.stderr.write(chunk);
        cb();
      },
    });
    const rl = createInterface({ input: process.stdin, output, terminal: true });
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolvePromise(Buffer.from(answer, 'utf8'));
    });
    muted = true;
  });
}
