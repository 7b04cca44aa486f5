/**
 * SoftHSMv2 for the HSM tests: a token folder of the test's own (SOFTHSM2_CONF is read once,
 * at the module's C_Initialize, so each test file — its own process — sets it up first),
 * tokens set up through `initToken` with alice, bob and carol holding PIN shares 2-of-3, and
 * the shipped ceremony files turned to `store: pkcs11`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getTokenRecord, pinShares } from '../src/custody/hsm-tokens.ts';
import { pinContext } from '../src/keys/pkcs11-shares.ts';
import type { Installation } from '../src/installation/installation.ts';
import { getOperator } from '../src/people/operators.ts';
import { runRootCeremony, type RootCeremonyResult } from '../src/lifecycle/root-ceremony.ts';
import { initToken } from '../src/custody/token-setup.ts';
import { parseRootCeremony } from '../src/config/ceremony.ts';
import { unlockCredential } from '../src/keys/credential.ts';
import { recoverFromCustodians } from '../src/keys/pkcs11-shares.ts';
import { allPassphrases, passphraseMap, PEOPLE, REPO, run } from './helpers.ts';

export const SOFTHSM = '/usr/lib/softhsm/libsofthsm2.so';

/** Points this process (and the children it starts) at a fresh token folder under `dir`. */
export function useSoftHsm(dir: string): string {
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens, { recursive: true });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(
    conf,
    `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
  );
  process.env.SOFTHSM2_CONF = conf;
  return conf;
}

export async function setUpToken(inst: Installation, label: string): Promise<void> {
  await initToken(inst, {
    module: SOFTHSM,
    label,
    holders: ['alice', 'bob', 'carol'],
    threshold: 2,
    operator: 'alice',
    witness: 'olivia',
    passphrases: passphraseMap(allPassphrases()),
  });
}

/** A shipped ceremony file with its key section turned to the pkcs11 store. */
export function pkcs11Ceremony(dir: string, name: string, token: string, backupTokens: string[] = []): string {
  const text = readFileSync(join(REPO, 'ceremonies', `${name}.yaml`), 'utf8').replace(
    /key:\n {2}store: soft\n/,
    `key:\n  store: pkcs11\n  pkcs11:\n    module: ${SOFTHSM}\n    token: ${token}\n    keyLabel: ${name}-key\n    backupTokens: [${backupTokens.join(', ')}]\n`,
  );
  if (!text.includes('store: pkcs11')) throw new Error(`could not rewrite ${name}.yaml`);
  const file = join(dir, `${name}-hsm.yaml`);
  writeFileSync(file, text);
  return file;
}

export async function runPkcs11Ceremony(
  inst: Installation,
  dir: string,
  name: string,
  token: string,
  backupTokens: string[] = [],
  present = allPassphrases(),
): Promise<RootCeremonyResult> {
  const file = pkcs11Ceremony(dir, name, token, backupTokens);
  return runRootCeremony(inst, {
    ceremony: parseRootCeremony(readFileSync(file), file),
    baseDir: dir,
    passphrases: passphraseMap(present),
  });
}

/**
 * The token's user PIN as two custodians rebuild it — what a quorum does at activation. Only
 * the tests use it, to let pkcs11-tool look into the token as an independent client.
 */
export async function quorumPin(inst: Installation, label: string): Promise<string> {
  const t = getTokenRecord(inst, label);
  const creds = (['alice', 'bob'] as const).map((n) =>
    unlockCredential(n, getOperator(inst, n).credential, Buffer.from(PEOPLE[n].passphrase)),
  );
  try {
    return (
      await recoverFromCustodians(pinContext(t, 'user'), t.threshold, pinShares(inst, t.id, 'user'), creds)
    ).toString('latin1');
  } finally {
    for (const c of creds) c.lock();
  }
}

/** pkcs11-tool (OpenSC) against the test's SoftHSM; returns stdout+stderr and status. */
export function pkcs11Tool(args: string[]) {
  const r = run('pkcs11-tool', ['--module', SOFTHSM, ...args]);
  return { status: r.status, out: r.stdout + r.stderr };
}

export { rejectsWith } from './helpers.ts';
