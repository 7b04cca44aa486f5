/**
 * The sub-CA options `rootca issue` and `rootca application submit` share: the purpose, extra key
 * purposes, extra policies and the name constraints of a technically constrained sub-CA.
 */
import { type Command, Option } from 'commander';
import type { ProfileOptions } from '../pki/profiles.ts';
import { EXT_KEY_USAGES } from '../pki/profiles.ts';
import { SUBCA_PURPOSES, type SubcaPurpose } from '../pki/subca-purposes.ts';
import { collect, usage } from './context.ts';

/** The parsed flags. */
export interface SubcaFlags {
  purpose?: SubcaPurpose;
  eku: string[];
  policy: string[];
  permitDns: string[];
  excludeDns: string[];
  permitIp: string[];
  excludeIp: string[];
  permitEmail: string[];
  excludeEmail: string[];
  permitDirname: string[];
  excludeDirname: string[];
}

/** Adds the flags to a command. */
export function addSubcaFlags(cmd: Command): Command {
  const each = (flag: string, what: string) => cmd.option(flag, `subca: ${what} (repeatable)`, collect, []);
  cmd.addOption(
    new Option(
      '--purpose <purpose>',
      'subca: what the sub-CA is for; fixes its extendedKeyUsage and reserved policy (Mozilla 5.3, BR 7.1.2.10.5)',
    ).choices([...SUBCA_PURPOSES]),
  );
  each(
    '--eku <purpose>',
    `key purpose added to the purpose's: ${Object.keys(EXT_KEY_USAGES).join(', ')} or a dotted OID`,
  );
  cmd.option(
    '--policy <oid>',
    'extra Certificate Policy OID: registered for the CA, or CA/B Forum reserved 2.23.140.1.* (repeatable)',
    collect,
    [],
  );
  each('--permit-dns <name>', 'name constraints, permitted DNS subtree');
  each('--exclude-dns <name>', 'name constraints, excluded DNS subtree');
  each('--permit-ip <cidr>', 'name constraints, permitted IP range (192.0.2.0/24, 2001:db8::/32)');
  each('--exclude-ip <cidr>', 'name constraints, excluded IP range');
  each('--permit-email <form>', 'name constraints, permitted rfc822Name (mailbox, host or .domain)');
  each('--exclude-email <form>', 'name constraints, excluded rfc822Name');
  each('--permit-dirname <dn>', 'name constraints, permitted directoryName ("C=JP, O=Example")');
  return each('--exclude-dirname <dn>', 'name constraints, excluded directoryName');
}

const some = (x: string[]) => (x.length ? x : undefined);

/** The profile options and extra policies the flags ask for (undefined where a flag was not given). */
export function subcaOptionsFrom(o: SubcaFlags): ProfileOptions & { extraPolicyOids?: string[] } {
  const eku = o.eku.map(
    (e) =>
      EXT_KEY_USAGES[e] ??
      (/^[0-2](\.\d+)+$/.test(e)
        ? e
        : usage(
            'OPTION_VALUE_INVALID',
            `--eku ${e}: expected one of ${Object.keys(EXT_KEY_USAGES).join(', ')} or a dotted OID`,
          )),
  );
  return {
    purpose: o.purpose,
    extKeyUsage: some(eku),
    extraPolicyOids: some(o.policy),
    permittedDnsNames: some(o.permitDns),
    excludedDnsNames: some(o.excludeDns),
    permittedIpRanges: some(o.permitIp),
    excludedIpRanges: some(o.excludeIp),
    permittedEmails: some(o.permitEmail),
    excludedEmails: some(o.excludeEmail),
    permittedDirectoryNames: some(o.permitDirname),
    excludedDirectoryNames: some(o.excludeDirname),
  };
}
