/**
 * `issue` and `list` of a root's delegated keys (issue 15), under `rootca ocsp responder` and
 * `rootca publication-key`: one definition for both purposes (custody/delegated-keys.ts).
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { DelegatedPurpose } from '../../../custody/delegated-signers.ts';
import { passphrasesFrom, print, wholeNumber, withInstallation } from '../../context.ts';
import { ceremonyPeople } from '../../options.ts';

const WORDS: Record<DelegatedPurpose, string> = { ocsp: 'OCSP responder', publication: 'publication' };
/** The article each purpose's name takes ("an OCSP responder key"). */
const ARTICLE: Record<DelegatedPurpose, string> = { ocsp: 'an', publication: 'a' };

/** Defines `issue` and `list` under `parent` for the delegated keys of `purpose`. */
export function defineDelegatedKeyCommands(parent: Command, purpose: DelegatedPurpose): void {
  ceremonyPeople(
    parent
      .command('issue')
      .description(
        `make ${ARTICLE[purpose]} ${WORDS[purpose]} key in the offline key store with its own custodians and have the root certify it (BR 6.1.7: the root key signs only certificates and CRLs)`,
      )
      .requiredOption('--ca <name>', 'the root that certifies the key')
      .requiredOption('--holders <names>', 'CA Administrators who hold shares of the new key, comma-separated')
      .requiredOption(
        '--threshold <m>',
        "shares needed to use it: at least 2, at most the root's",
        wholeNumber('--threshold'),
      )
      .option('--validity-days <n>', "life of its certificate (default: the profile's)", wholeNumber('--validity-days'))
      .option('--common-name <text>', 'subject CN of its certificate')
      .option('--out <file>', 'also write its certificate (PEM) here'),
  ).action(async function (
    this: Command,
    o: {
      ca: string;
      holders: string;
      threshold: number;
      validityDays?: number;
      commonName?: string;
      out?: string;
      operator: string;
      witness: string;
      credential: string[];
    },
  ) {
    const { issueDelegatedKey } = await import('../../../custody/delegated-keys.ts');
    await withInstallation(this, async (inst) => {
      const r = await issueDelegatedKey(inst, {
        caName: o.ca,
        purpose,
        holders: o.holders.split(','),
        threshold: o.threshold,
        validityDays: o.validityDays,
        commonName: o.commonName,
        operator: o.operator,
        witness: o.witness,
        passphrases: passphrasesFrom(o.credential),
      });
      if (o.out) writeFileSync(o.out, r.certificatePem, { flag: 'wx' });
      print(
        this,
        r,
        [
          `${WORDS[purpose]} key ${r.keyId} of ${r.caName}: ${r.threshold} of ${r.holders.join(', ')}`,
          `  certificate serial ${r.serialHex}, valid ${r.notBefore.toISOString()} .. ${r.notAfter.toISOString()}`,
          ...(o.out ? [`  wrote ${o.out}`] : []),
          `  transcript ${r.transcriptFile}`,
        ].join('\n'),
      );
    });
  });

  parent
    .command('list')
    .description(`the ${WORDS[purpose]} keys of the roots, with their certificates' dates`)
    .option('--ca <name>', 'only this root')
    .action(async function (this: Command, o: { ca?: string }) {
      const { listDelegated } = await import('../../../custody/delegated-keys.ts');
      await withInstallation(this, (inst) => {
        const keys = listDelegated(inst, { caName: o.ca, purpose }).map((k) => ({
          keyId: k.key_id,
          ca: k.ca_name,
          status: k.status,
          threshold: k.threshold,
          serialHex: k.serial_hex,
          notBefore: k.not_before,
          notAfter: k.not_after,
        }));
        const lines = keys.map(
          (k) => `${k.ca}  ${k.keyId}  ${k.status}  serial ${k.serialHex ?? '-'}  until ${k.notAfter ?? '-'}`,
        );
        print(this, keys, lines.length ? lines.join('\n') : `no ${WORDS[purpose]} keys`);
      });
    });
}
