/**
 * The top-level commands of `rootca`, in the groups an operator thinks in. Each entry names the
 * file under commands/ that defines it (options, subcommands, help, action); that file is
 * loaded only when its command runs or its help is asked for, so `rootca --help` and
 * `--version` load none of them (issue 18: start-up).
 *
 * To add a command: add a line here and a file commands/<name>.ts exporting `define(cmd)`.
 */
import type { Command } from 'commander';

/** The help groups, in the order `rootca --help` shows them. */
export const GROUPS = {
  setup: 'Setup and people:',
  keys: 'Keys and ceremonies:',
  issuance: 'Issuance:',
  status: 'Status and publication:',
  records: 'Records and audit:',
  online: 'Online side:',
  shell: 'Shell:',
} as const;

/** What a file under commands/ exports: one `define` the program calls when the command is loaded. */
export interface CommandModule {
  /** Adds the command's arguments, options, subcommands and actions to `cmd`. */
  define(cmd: Command): void;
}

/** One top-level command as `rootca --help` lists it, before its file is loaded. */
export interface CommandEntry {
  name: string;
  group: keyof typeof GROUPS;
  /** One line for `rootca --help`; also the command's own description. */
  summary: string;
  /** The command needs the whole command tree defined when it runs (completion walks it). */
  needsAll?: boolean;
  load(): Promise<CommandModule>;
}

/** Every top-level command, in help order within its group. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'init',
    group: 'setup',
    summary: 'create a new installation (SQLite store + config file)',
    load: () => import('./commands/init.ts'),
  },
  {
    name: 'operator',
    group: 'setup',
    summary: 'people in trusted roles (CPS 5.2, 5.3)',
    load: () => import('./commands/operator.ts'),
  },
  {
    name: 'policy',
    group: 'setup',
    summary: 'Certificate Policy OIDs of each CA (R-1.2; CPS 1.2)',
    load: () => import('./commands/policy.ts'),
  },
  {
    name: 'doc',
    group: 'setup',
    summary: 'the CPS and CPs: propose, approve, publish, claims (R-10.1; CPS 9.12)',
    load: () => import('./commands/doc.ts'),
  },

  { name: 'ceremony', group: 'keys', summary: 'key ceremonies', load: () => import('./commands/ceremony.ts') },
  { name: 'ca', group: 'keys', summary: 'the CAs of this installation', load: () => import('./commands/ca.ts') },
  {
    name: 'status',
    group: 'keys',
    summary:
      'per CA: what is due and when (CRL, OCSP, responder certificates, revocations, changeover); exit 3 warning, 4 overdue',
    load: () => import('./commands/status.ts'),
  },
  {
    name: 'key',
    group: 'keys',
    summary: 'CA private keys: destruction (CPS 6.2.10)',
    load: () => import('./commands/key.ts'),
  },
  {
    name: 'token',
    group: 'keys',
    summary: 'PKCS#11 tokens (HSM partitions) holding CA keys',
    load: () => import('./commands/token.ts'),
  },

  {
    name: 'application',
    group: 'issuance',
    summary: 'certificate applications: submit, approve/reject, accept (R-3.5)',
    load: () => import('./commands/application.ts'),
  },
  {
    name: 'csr',
    group: 'issuance',
    summary: 'certificate signing requests (PKCS#10)',
    load: () => import('./commands/csr.ts'),
  },
  {
    name: 'issue',
    group: 'issuance',
    summary:
      'issue a certificate: from an approved --application, or directly from --ca/--profile/--csr where config allows (lint, sign once, lint again)',
    load: () => import('./commands/issue.ts'),
  },
  { name: 'cert', group: 'issuance', summary: 'issued certificates', load: () => import('./commands/cert.ts') },

  {
    name: 'revoke',
    group: 'status',
    summary: 'revoke a certificate; a CRL and fresh OCSP responses follow in the same session unless --defer-crl',
    load: () => import('./commands/revoke.ts'),
  },
  {
    name: 'compromise',
    group: 'status',
    summary: 'compromise handling (CPS 5.7)',
    load: () => import('./commands/compromise.ts'),
  },
  {
    name: 'crl',
    group: 'status',
    summary: 'certificate revocation lists (R-4.2)',
    load: () => import('./commands/crl.ts'),
  },
  { name: 'ocsp', group: 'status', summary: 'OCSP (R-2.3)', load: () => import('./commands/ocsp.ts') },
  {
    name: 'publish',
    group: 'status',
    summary: 'write the signed publication file for the online side (R-2.4)',
    load: () => import('./commands/publish.ts'),
  },
  {
    name: 'publication-key',
    group: 'status',
    summary: 'the key that signs the publication file, certified by a root (BR 6.1.7)',
    load: () => import('./commands/publication-key.ts'),
  },

  { name: 'audit', group: 'records', summary: 'the audit log (CPS 5.4)', load: () => import('./commands/audit.ts') },
  {
    name: 'transcript',
    group: 'records',
    summary: 'signed ceremony transcripts',
    load: () => import('./commands/transcript.ts'),
  },
  {
    name: 'archive',
    group: 'records',
    summary: 'records archive: backups, inspection, copies, restore (CPS 5.5, 5.7)',
    load: () => import('./commands/archive.ts'),
  },
  {
    name: 'doctor',
    group: 'records',
    summary:
      'check file modes, interrupted ceremonies, the audit log and the state tables against it (changes nothing)',
    load: () => import('./commands/doctor.ts'),
  },
  {
    name: 'tsa',
    group: 'records',
    summary: 'the internal time-stamping authority (CPS 5.5.5, R-8.3)',
    load: () => import('./commands/tsa.ts'),
  },

  {
    name: 'serve',
    group: 'online',
    summary: 'serve the Repository (HTTP/HTTPS) and OCSP from the online store; holds no root key',
    load: () => import('./commands/serve.ts'),
  },
  {
    name: 'online',
    group: 'online',
    summary: 'the online store: publications and the OCSP access log',
    load: () => import('./commands/online.ts'),
  },

  {
    name: 'completion',
    group: 'shell',
    summary: 'print a bash or zsh completion script (source <(rootca completion bash))',
    needsAll: true,
    load: () => import('./commands/completion.ts'),
  },
];
