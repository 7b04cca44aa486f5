/**
 * The demo behind `npm start`: an installation with three demo custodians (2-of-3), a demo
 * Service Operation Manager as witness, and the four roots of R-1 made by the shipped
 * ceremony files. The demo passphrases are random, live only in this process, and are never
 * written anywhere (no passphrase in plaintext on disk): a reused demo can be looked at, not
 * used to sign. Run your own installation for that (README, "Ceremony walk-through").
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRootCeremony } from '../config/ceremony.ts';
import { listCas, type CaSummary } from './cas.ts';
import { DATABASE_FILE, initInstallation, openInstallation, type Installation } from './installation.ts';
import { closeBootstrapIfReady } from './appointments.ts';
import { addOperator } from './operators.ts';
import type { PassphraseSource } from './participants.ts';
import { runRootCeremony } from './root-ceremony.ts';

export const DEMO_PEOPLE = [
  { name: 'alice', displayName: 'Alice (demo CA Administrator, custodian)', roles: ['ca-administrator'] },
  { name: 'bob', displayName: 'Bob (demo CA Administrator, custodian)', roles: ['ca-administrator'] },
  { name: 'carol', displayName: 'Carol (demo CA Administrator, custodian)', roles: ['ca-administrator'] },
  { name: 'olivia', displayName: 'Olivia (demo Service Operation Manager)', roles: ['operation-manager'] },
  { name: 'paula', displayName: 'Paula (demo Person Responsible for Services)', roles: ['person-responsible'] },
  { name: 'rita', displayName: 'Rita (demo Person in Charge of RA)', roles: ['ra-officer'] },
  { name: 'ravi', displayName: 'Ravi (demo Person in Charge of RA)', roles: ['ra-officer'] },
  { name: 'leo', displayName: 'Leo (demo Log Examiner)', roles: ['log-examiner'] },
];
export const DEMO_CEREMONIES = ['rootca1', 'rootca2', 'rootca3', 'ecc-rootca1'];

export interface DemoResult {
  home: string;
  created: boolean;
  cas: CaSummary[];
  certificatesDir: string;
}

export async function runDemo(home: string, ceremoniesDir: string, progress: (line: string) => void = () => {}): Promise<DemoResult> {
  const certificatesDir = join(home, 'certs');
  let inst: Installation;
  let created = false;
  if (existsSync(join(home, DATABASE_FILE))) {
    inst = openInstallation(home);
  } else {
    inst = initInstallation(home, { name: 'demo' });
    created = true;
    const secrets = new Map<string, Buffer>();
    for (const p of DEMO_PEOPLE) {
      const passphrase = Buffer.from(randomBytes(24).toString('base64url'));
      secrets.set(p.name, passphrase);
      const today = inst.clock.now().toISOString().slice(0, 10);
      addOperator(inst, { name: p.name, displayName: p.displayName, roles: p.roles, kind: 'ed25519', passphrase, trainedOn: today, backgroundCheckedOn: today });
    }
    closeBootstrapIfReady(inst);
    const source: PassphraseSource = { get: async (name) => (secrets.has(name) ? Buffer.from(secrets.get(name)!) : undefined) };
    mkdirSync(certificatesDir, { recursive: true });
    try {
      for (const name of DEMO_CEREMONIES) {
        const existing = new Set(listCas(inst).map((c) => c.name));
        if (existing.has(name)) continue;
        progress(`key ceremony ${name} ...`);
        const file = join(ceremoniesDir, `${name}.yaml`);
        await runRootCeremony(inst, { ceremony: parseRootCeremony(readFileSync(file), file), baseDir: certificatesDir, passphrases: source });
      }
    } finally {
      for (const s of secrets.values()) s.fill(0);
    }
  }
  try {
    return { home: inst.home, created, cas: listCas(inst), certificatesDir };
  } finally {
    inst.close();
  }
}
