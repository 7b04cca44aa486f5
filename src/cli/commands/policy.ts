/** `rootca policy …`: Certificate Policy OIDs registered per CA (R-1.2; CPS 1.2). */
import { type Command, Option } from 'commander';
import { POLICY_PURPOSES, type RegisteredPolicy } from '../../issuance/policies.ts';
import type { PolicyPurpose } from '../../pki/profiles.ts';
import { collect, CREDENTIAL_HELP, passphrasesFrom, print, withInstallation } from '../context.ts';

const line = (p: RegisteredPolicy) =>
  `${p.ca} ${p.purpose} ${p.oid}${p.name ? ` "${p.name}"` : ''} (registered ${p.registeredAt}${p.registeredBy ? ` by ${p.registeredBy}` : ' by its root ceremony'})`;

/** Defines `rootca policy`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(policy: Command): void {
  policy
    .command('add')
    .description(
      'register a new CP OID for a CA: every later certificate of that purpose asserts it (the Person Responsible, with a Service Operation Manager)',
    )
    .requiredOption('--ca <name>', 'the CA')
    .requiredOption('--oid <oid>', 'the CP OID, dotted')
    .requiredOption('--name <text>', "the CP's name (as in CPS Table 1.2-3)")
    .addOption(
      new Option('--purpose <purpose>', 'which certificates assert it')
        .choices([...POLICY_PURPOSES])
        .default('subordinate-ca'),
    )
    .requiredOption('--by <name>', 'the Person Responsible for Services authorising it')
    .requiredOption('--witness <name>', 'the Service Operation Manager present')
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (
      this: Command,
      o: {
        ca: string;
        oid: string;
        name: string;
        purpose: PolicyPurpose;
        by: string;
        witness: string;
        credential: string[];
      },
    ) {
      const { registerPolicy } = await import('../../issuance/policies.ts');
      await withInstallation(this, async (inst) => {
        const p = await registerPolicy(inst, {
          caName: o.ca,
          oid: o.oid,
          name: o.name,
          purpose: o.purpose,
          by: o.by,
          witness: o.witness,
          passphrases: passphrasesFrom(o.credential),
        });
        print(this, p, `registered: ${line(p)}`);
      });
    });

  policy
    .command('list')
    .description('the registered CP OIDs')
    .option('--ca <name>', 'only this CA')
    .action(async function (this: Command, o: { ca?: string }) {
      const { listPolicies } = await import('../../issuance/policies.ts');
      await withInstallation(this, (inst) => {
        const all = listPolicies(inst, o.ca);
        print(this, all, all.map(line).join('\n') || 'no policies registered');
      });
    });
}
