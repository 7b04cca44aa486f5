/** Fixtures of the audit evidence tests: an installation with only the people they need. */
import { join } from 'node:path';
import { closeBootstrapIfReady } from '../src/people/appointments.ts';
import { initInstallation, type Installation } from '../src/installation/installation.ts';
import { addOperator } from '../src/people/operators.ts';
import { passphraseMap, TEST_SCRYPT_LOG2N } from './helpers.ts';

/** A Person Responsible, a Service Operation Manager, two Log Examiners and a CA Administrator. */
export const AUDIT_PEOPLE: [string, string][] = [
  ['paula', 'person-responsible'],
  ['olivia', 'operation-manager'],
  ['leo', 'log-examiner'],
  ['lena', 'log-examiner'],
  ['alice', 'ca-administrator'],
];

export const auditPass = (name: string): string => `${name}-${process.pid}-evidence passphrase`;

export const auditPassphrases = passphraseMap(Object.fromEntries(AUDIT_PEOPLE.map(([n]) => [n, auditPass(n)])));

/** Fewer credentials than installationWithPeople({ more: true }): each is a deliberate scrypt. */
export function evidenceInstallation(dir: string, only?: string[]): Installation {
  const inst = initInstallation(join(dir, 'home'), { name: 'evidence', scryptLog2N: TEST_SCRYPT_LOG2N });
  const today = inst.clock.now().toISOString().slice(0, 10);
  for (const [name, role] of AUDIT_PEOPLE.filter(([n]) => !only || only.includes(n)))
    addOperator(inst, {
      name,
      roles: [role],
      kind: 'ed25519',
      passphrase: Buffer.from(auditPass(name)),
      trainedOn: today,
      backgroundCheckedOn: today,
    });
  closeBootstrapIfReady(inst);
  return inst;
}
