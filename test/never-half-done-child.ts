/**
 * Child process for test/never-half-done-kills.test.ts: runs one operation (never-half-done-ops.ts)
 * on the home in argv[2] with the options in argv[3] (JSON) and prints `done`. The parent sets
 * ROOTCA_FAULT_AT to kill it at one write point (src/util/fault-points.ts) or ROOTCA_FAULT_TRACE
 * to list them; the steps of the backup that follows are fault points too (`backup:<step>`).
 * The passphrases come from the parent in ROOTCA_TEST_PASSPHRASES (JSON).
 */
import { onBackupStep } from '../src/records/backups.ts';
import { openInstallation } from '../src/installation/installation.ts';
import { faultPoint } from '../src/util/fault-points.ts';
import { runOp } from './never-half-done-ops.ts';

const [home, op, json] = process.argv.slice(2) as [string, string, string];
onBackupStep((step) => faultPoint(`backup:${step}`));
const inst = openInstallation(home);
await runOp(
  inst,
  op,
  JSON.parse(json ?? '{}'),
  JSON.parse(process.env.ROOTCA_TEST_PASSPHRASES ?? '{}') as Record<string, string>,
);
process.stdout.write('done\n');
inst.close();
