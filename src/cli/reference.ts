/**
 * docs/cli.md, generated from the command definitions (issue 18 item 5): the help of every
 * command and subcommand, in the groups of `rootca --help`. `npm run docs` writes it;
 * test/cli-docs.test.ts fails when the committed file differs.
 */
import type { Command } from 'commander';

const WIDTH = 100;

const helpOf = (cmd: Command) => {
  cmd.configureHelp({ ...cmd.configureHelp(), helpWidth: WIDTH });
  return cmd.helpInformation().trimEnd();
};

const pathOf = (cmd: Command): string => (cmd.parent ? `${pathOf(cmd.parent)} ${cmd.name()}` : cmd.name());

/** The GitHub anchor of a heading made of words, spaces and hyphens. */
export const anchorOf = (heading: string) =>
  heading
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, '')
    .replace(/ /g, '-');

const subcommands = (cmd: Command) => cmd.commands.filter((c) => c.name() !== 'help');

/** docs/cli.md from the command definitions, so the reference never drifts from the program. */
export function cliReference(program: Command): string {
  const out: string[] = [
    '# CLI reference',
    '',
    'Generated from the command definitions by `npm run docs`; do not edit by hand (a test fails',
    'when this file differs from what the generator writes). `rootca <command> --help` prints the',
    'same text. Exit codes: 0 ok, 1 refused or failed, 2 usage; every error ends with a stable',
    '`[CODE]` ([errors](errors.md)). `--json` output for scripts: [JSON output](json.md).',
    '',
    '```text',
    helpOf(program),
    '```',
    '',
  ];
  const groups = new Map<string, Command[]>();
  for (const c of subcommands(program)) groups.set(c.helpGroup(), [...(groups.get(c.helpGroup()) ?? []), c]);
  out.push('## Commands by group', '');
  for (const [group, cmds] of groups) {
    out.push(`- ${group.replace(/:$/, '')}: ${cmds.map((c) => `[${c.name()}](#${anchorOf(pathOf(c))})`).join(', ')}`);
  }
  out.push('');
  const section = (cmd: Command, depth: number) => {
    out.push(`${'#'.repeat(Math.min(depth, 6))} ${pathOf(cmd)}`, '', '```text', helpOf(cmd), '```', '');
    for (const s of subcommands(cmd)) section(s, depth + 1);
  };
  for (const c of subcommands(program)) section(c, 2);
  return `${out.join('\n').trimEnd()}\n`;
}
