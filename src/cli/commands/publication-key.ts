/** `rootca publication-key issue | list`: the key that signs the publication manifest instead of a root key (issue 15; BR 6.1.7). */
import type { Command } from 'commander';
import { defineDelegatedKeyCommands } from './ocsp/delegated-key.ts';

/** Defines `rootca publication-key`: its subcommands (loaded only when it runs, issue 18). */
export function define(cmd: Command): void {
  defineDelegatedKeyCommands(cmd, 'publication');
}
