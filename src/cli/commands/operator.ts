/** `rootca operator …`: appointment, roles, training, removal (CPS 5.2, 5.3). */
import { Command, Option } from 'commander';
import type { Authority } from '../../people/appointments.ts';
import type { PersonnelChange } from '../../people/personnel.ts';
import { ROLES } from '../../people/roles.ts';
import { UsageError } from '../../errors.ts';
import { collect, CREDENTIAL_HELP, passphrasesFrom, print, withInstallation } from '../context.ts';
import { cliPassphraseSource, envVariableFor, hiddenPrompt, parseCredentialOptions } from '../passphrases.ts';

const authorityOptions = (c: Command) =>
  c
    .option(
      '--by <name>',
      'the Person Responsible for Services authorising it (not needed while the installation bootstraps)',
    )
    .option('--witness <name>', 'the Service Operation Manager present')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, []);

type AuthorityOptions = { by?: string; witness?: string; credential: string[] };
const authority = (o: AuthorityOptions): Authority => ({
  authoriser: o.by,
  witness: o.witness,
  passphrases: passphrasesFrom(o.credential),
});

/** Defines `rootca operator`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(operator: Command): void {
  defineAdd(operator);
  definePersonnelChanges(operator);
  defineList(operator);
  defineShow(operator);
}

/** `operator add`: appointment with a new credential, kept apart because it alone prompts for a passphrase. */
function defineAdd(operator: Command): void {
  authorityOptions(
    operator
      .command('add <name>')
      .description('appoint an operator with roles and a new credential sealed under their passphrase')
      .addOption(
        new Option('--role <role>', `a role (repeatable): ${Object.keys(ROLES).join(', ')}`)
          .argParser(collect)
          .default([]),
      )
      .option('--display-name <text>', 'full name')
      .option('--trained-on <date>', 'date of the training for the role (YYYY-MM-DD, CPS 5.3.3)')
      .option('--background-checked-on <date>', 'date of the background check (YYYY-MM-DD, CPS 5.3.2)')
      .addOption(
        new Option('--credential-kind <kind>', 'credential key type').choices(['ed25519', 'p256']).default('ed25519'),
      ),
  ).action(async function (
    this: Command,
    name: string,
    o: AuthorityOptions & {
      role: string[];
      displayName?: string;
      trainedOn?: string;
      backgroundCheckedOn?: string;
      credentialKind: 'ed25519' | 'p256';
    },
  ) {
    const passphrase = await newPassphrase(name, o.credential);
    const { appointOperator } = await import('../../people/appointments.ts');
    await withInstallation(this, async (inst) => {
      const op = await appointOperator(
        inst,
        {
          name,
          displayName: o.displayName,
          roles: o.role,
          kind: o.credentialKind,
          passphrase,
          trainedOn: o.trainedOn,
          backgroundCheckedOn: o.backgroundCheckedOn,
        },
        authority(o),
      );
      passphrase.fill(0);
      print(
        this,
        { name: op.name, roles: op.roles, credentialKind: op.credential.kind },
        `Operator ${op.name} appointed with roles ${op.roles.join(', ')} (${op.credential.kind} credential)`,
      );
    });
  });
}

/** `operator assign|unassign|train|background-check|remove`: the personnel changes, which share one action shape. */
function definePersonnelChanges(operator: Command): void {
  const change = (
    cmdName: string,
    description: string,
    args: string,
    build: (name: string, arg: string | undefined, o: Record<string, string>) => PersonnelChange,
    extra?: (c: Command) => Command,
  ) => {
    let c = operator.command(`${cmdName} ${args}`).description(description);
    if (extra) c = extra(c);
    authorityOptions(c).action(async function (this: Command, name: string, ...rest: unknown[]) {
      const o = rest.find((x) => x && typeof x === 'object' && !(x instanceof Command)) as AuthorityOptions &
        Record<string, string>;
      const arg = typeof rest[0] === 'string' ? rest[0] : undefined;
      const { changePersonnel } = await import('../../people/appointments.ts');
      await withInstallation(this, async (inst) => {
        const op = await changePersonnel(inst, build(name, arg, o), authority(o));
        print(
          this,
          {
            name: op.name,
            status: op.status,
            roles: op.roles,
            trainedOn: op.trainedOn,
            backgroundCheckedOn: op.backgroundCheckedOn,
          },
          `${op.name}: ${op.status}; roles ${op.roles.join(', ') || 'none'}; trained ${op.trainedOn?.slice(0, 10) ?? 'never'}; checked ${op.backgroundCheckedOn?.slice(0, 10) ?? 'never'}`,
        );
      });
    });
  };
  change('assign', 'give an operator a role (job rotation keeps the history)', '<name> <role>', (operator, role) => ({
    kind: 'assign-role',
    operator,
    role: role!,
  }));
  change('unassign', "end an operator's role", '<name> <role>', (operator, role) => ({
    kind: 'end-role',
    operator,
    role: role!,
  }));
  change(
    'train',
    'record training (CPS 5.3.3, 5.3.4)',
    '<name>',
    (operator, _a, o) => ({ kind: 'training', operator, date: o.date }),
    (c) => c.requiredOption('--date <date>', 'YYYY-MM-DD'),
  );
  change(
    'background-check',
    'record a background check (CPS 5.3.2)',
    '<name>',
    (operator, _a, o) => ({ kind: 'background-check', operator, date: o.date }),
    (c) => c.requiredOption('--date <date>', 'YYYY-MM-DD'),
  );
  change(
    'remove',
    'revoke an appointment; the credential stops working at once',
    '<name>',
    (operator, _a, o) => ({ kind: 'remove', operator, reason: o.reason }),
    (c) => c.requiredOption('--reason <text>', 'why'),
  );
}

/** `operator list`: one line per operator. */
function defineList(operator: Command): void {
  operator
    .command('list')
    .description('operators, status, roles, training')
    .action(async function (this: Command) {
      const { listOperators } = await import('../../people/operators.ts');
      await withInstallation(this, (inst) => {
        const ops = listOperators(inst);
        print(
          this,
          ops.map((o) => ({
            name: o.name,
            displayName: o.displayName,
            status: o.status,
            roles: o.roles,
            credentialKind: o.credential.kind,
            trainedOn: o.trainedOn,
            backgroundCheckedOn: o.backgroundCheckedOn,
          })),
          ops
            .map(
              (o) =>
                `${o.name.padEnd(16)} ${o.status.padEnd(8)} trained ${(o.trainedOn?.slice(0, 10) ?? 'never').padEnd(10)} ${o.roles.join(', ')}`,
            )
            .join('\n') || '(no operators)',
        );
      });
    });
}

/** `operator show`: the personnel file of one operator. */
function defineShow(operator: Command): void {
  operator
    .command('show <name>')
    .description('the personnel file: appointment, role history, training, removal')
    .action(async function (this: Command, name: string) {
      const { getOperator } = await import('../../people/operators.ts');
      const { personnelHistory, roleHistory } = await import('../../people/personnel.ts');
      await withInstallation(this, (inst) => {
        const op = getOperator(inst, name);
        const events = personnelHistory(inst, name);
        const roles = roleHistory(inst, name);
        print(
          this,
          {
            name: op.name,
            displayName: op.displayName,
            status: op.status,
            appointedAt: op.appointedAt,
            removedAt: op.removedAt,
            trainedOn: op.trainedOn,
            backgroundCheckedOn: op.backgroundCheckedOn,
            roles,
            events,
          },
          [
            `${op.name} (${op.displayName}) ${op.status}`,
            `  appointed ${op.appointedAt}${op.removedAt ? `, removed ${op.removedAt}` : ''}`,
            `  trained ${op.trainedOn ?? 'never'}; background check ${op.backgroundCheckedOn ?? 'never'}`,
            '  roles:',
            ...roles.map((r) => `    ${r.role.padEnd(22)} ${r.assignedAt} .. ${r.endedAt ?? 'now'}`),
            '  personnel events:',
            ...events.map((e) => `    ${e.at} ${e.kind.padEnd(16)} by ${e.authorisedBy}`),
          ].join('\n'),
        );
      });
    });
}

async function newPassphrase(name: string, credential: string[]): Promise<Buffer> {
  const source = cliPassphraseSource({ credentials: parseCredentialOptions(credential), interactive: false });
  const given = await source.get(name, '');
  if (given) return given;
  if (!process.stdin.isTTY)
    throw new UsageError(
      'CREDENTIAL_UNAVAILABLE',
      `no passphrase for ${name}: give --credential ${name}=@FILE or set ${envVariableFor(name)} (stdin is not a terminal)`,
    );
  const a = await hiddenPrompt(`new passphrase for ${name}: `);
  const b = await hiddenPrompt(`repeat passphrase for ${name}: `);
  if (!a.equals(b)) throw new UsageError('PASSPHRASES_DIFFER', 'the two passphrases differ');
  b.fill(0);
  return a;
}
