/**
 * The changeovers the never-half-done changeover test kills and runs again
 * (test/never-half-done-changeover.test.ts). Run as a script (`HOME OP OUT`), it is the child
 * that is killed: ROOTCA_FAULT_AT / ROOTCA_FAULT_TRACE (src/util/fault-points.ts) pick the
 * point, the backup's steps included; the passphrases come in ROOTCA_TEST_PASSPHRASES.
 */
import { pathToFileURL } from 'node:url';
import { openInstallation, type Installation } from '../src/installation/installation.ts';
import { renewCa } from '../src/lifecycle/renewal.ts';
import { rekeyCa } from '../src/lifecycle/rekey.ts';
import { declareCaCompromise } from '../src/lifecycle/compromise.ts';
import { onBackupStep } from '../src/records/backups.ts';
import { faultPoint } from '../src/util/fault-points.ts';
import { allPassphrases, passphraseMap } from './helpers.ts';

/** `renew` writes its certificate to the file `out`; `rekey` its three to the folder `out`; `compromise` writes none. */
export function runChangeover(
  inst: Installation,
  op: string,
  out: string,
  secrets = allPassphrases(),
): Promise<unknown> {
  const ask = { caName: 'ecc-rootca1', operator: 'alice', witness: 'olivia', passphrases: passphraseMap(secrets) };
  if (op === 'renew') return renewCa(inst, { ...ask, out });
  if (op === 'rekey') return rekeyCa(inst, { ...ask, outDir: out });
  if (op === 'compromise') return declareCaCompromise(inst, { ...ask, authoriser: 'paula' });
  throw new Error(`unknown changeover ${op}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [home, op, out] = process.argv.slice(2) as [string, string, string];
  onBackupStep((step) => faultPoint(`backup:${step}`));
  const inst = openInstallation(home);
  await runChangeover(inst, op, out, JSON.parse(process.env.ROOTCA_TEST_PASSPHRASES ?? '{}') as Record<string, string>);
  inst.close();
}
