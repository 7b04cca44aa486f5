/** Options several commands share, so each reads and behaves the same everywhere. */
import type { Command } from 'commander';
import { collect, CREDENTIAL_HELP } from './context.ts';

/** The operator and witness of a key ceremony, and their passphrases. */
export const ceremonyPeople = (c: Command) =>
  c
    .requiredOption('--operator <name>', 'the CA Administrator performing it')
    .requiredOption('--witness <name>', 'the Service Operation Manager observing it')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, []);

/** Where an end-of-life runbook writes its publication file, and which root signs it. */
export const publicationOptions = (c: Command) =>
  c
    .option('--publish-out <file>', 'write the publication file for the online side here (never overwritten)')
    .option('--publish-signer <ca>', 'the root that signs the publication: another active root');

/** The option that signs status with a key retired at a re-key (CPS 5.6). */
export const RETIRED_KEY = '--retired-key [key-id]';
/** Its help text, the same on every command that takes it. */
export const RETIRED_KEY_HELP =
  'sign with the key retired at a re-key (its custodians), for what it issued; status only (CPS 5.6)';

/** --store of `rootca serve` and `rootca online …`. */
export const STORE_HELP =
  'online store: sqlite:PATH (default $ROOTCA_HOME/online.db) or postgres://USER@HOST:PORT/DB (many responders)';
