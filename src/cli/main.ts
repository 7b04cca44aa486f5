/**
 * The `rootca` command (CONVENTIONS 9): each command parses, calls one use case, prints.
 * Exit codes: 0 ok, 1 refused or failed, 2 usage. `--json` prints machine-readable results.
 *
 * Start-up (issue 18): only the command being run is loaded; `rootca --help` lists the
 * others from command-index.ts without loading them.
 */
import { Command, CommanderError } from 'commander';
import { CaError, exitCodeOf } from '../errors.ts';
import { setProgressSink } from '../util/progress.ts';
import { COMMANDS, GROUPS, type CommandEntry } from './command-index.ts';
import { printableMessage } from '../util/printable.ts';
import { keepOldGenerationTight, keepYoungGenerationSmall } from '../server/heap-settings.ts';
import { terminalProgress } from './progress.ts';
import { reportCommanderError } from './usage-errors.ts';

/** How much of the program to build: `main` loads only the command that runs (issue 18). */
export interface ProgramOptions {
  /** The package version `--version` prints. */
  version: string;
  /** Which top-level commands to load in full: the one named in argv, or all (docs, completion). */
  load: 'all' | readonly string[];
}

/** The root command with global options; every top-level command named, the loaded ones defined. */
export async function buildProgram(o: ProgramOptions): Promise<Command> {
  const program = new Command('rootca').description(
    'Offline root CA: key ceremonies with M-of-N custody, issuance, people and procedure, audit',
  );
  // Only `rootca --version` with no command: commander takes a program option wherever it stands
  // on the line, and `rootca doc show cps --version 5.12` means the document's version.
  if (o.load === 'all' || o.load.length === 0)
    program.version(o.version, '-V, --version', 'print the version of rootca');
  program
    .option('--home <dir>', 'installation home (default: $ROOTCA_HOME or ./rootca-data)')
    .option('--json', 'print results as JSON')
    .option('--with-blobs', 'with --json: include certificates, CSRs and other DER (base64) or PEM')
    .showHelpAfterError()
    .configureOutput({ outputError: () => undefined }) // main() prints it once, with its [CODE]
    .exitOverride();
  const entries = COMMANDS.filter((e) => o.load === 'all' || o.load.includes(e.name));
  const modules = new Map(await Promise.all(entries.map(async (e) => [e.name, await e.load()] as const)));
  for (const entry of COMMANDS) {
    const cmd = program.command(entry.name).description(entry.summary).helpGroup(GROUPS[entry.group]);
    modules.get(entry.name)?.define(cmd);
  }
  // The list of commands shows names only: loaded and unloaded ones look alike.
  program.configureHelp({ subcommandTerm: (cmd) => cmd.name() });
  program.commandsGroup(GROUPS.shell).helpCommand('help [command]', 'show help for a command');
  return program;
}

/** The top-level command argv runs (`rootca [--home DIR] [--json] NAME …`, or `rootca help NAME`). */
export function commandNamed(argv: readonly string[]): CommandEntry | undefined {
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--home') i++;
    else if (!a.startsWith('-')) words.push(a);
  }
  const name = words[0] === 'help' ? words[1] : words[0];
  return COMMANDS.find((e) => e.name === name);
}

/** Runs one command line and returns its exit code: 0 ok, 1 refused or failed, 2 usage (CONVENTIONS 9). */
export async function main(argv: string[], version: string): Promise<number> {
  let progress: Awaited<ReturnType<typeof terminalProgress>>;
  try {
    const named = commandNamed(argv);
    // Before the command loads: `rootca serve` idles for months, its heap small (issue 17 item 4).
    if (named?.name === 'serve') {
      keepYoungGenerationSmall();
      keepOldGenerationTight();
    }
    const program = await buildProgram({ version, load: named?.needsAll ? 'all' : named ? [named.name] : [] });
    program.hook('preAction', async (_root, action) => {
      progress = await terminalProgress(Boolean(action.optsWithGlobals().json));
      setProgressSink(progress);
    });
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    progress?.close(); // the message starts on a clean line
    if (e instanceof CommanderError) return reportCommanderError(e);
    if (e instanceof CaError) {
      // Messages carry text from files and CSRs: control characters are shown escaped (issue 14 item 5).
      process.stderr.write(`rootca: ${printableMessage(e.message)} [${e.code}]\n`);
      return exitCodeOf(e.code);
    }
    process.stderr.write(`rootca: unexpected error: ${printableMessage(String((e as Error).stack ?? e))}\n`);
    return 1;
  } finally {
    progress?.close();
    setProgressSink(undefined);
  }
}
