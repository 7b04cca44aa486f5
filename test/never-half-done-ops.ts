/**
 * The operations the never-half-done tests kill and run again (test/never-half-done-kills.test.ts),
 * shared by the child process that is killed and the test that runs the next one in-process.
 */
import { readFileSync } from 'node:fs';
import type { Installation } from '../src/installation/installation.ts';
import { issueCertificate } from '../src/issuance/issuance.ts';
import { publish } from '../src/status/publication.ts';
import { runRootCeremony } from '../src/lifecycle/root-ceremony.ts';
import { issueCrl, presignOcsp } from '../src/status/ceremonies.ts';
import { parseRootCeremony } from '../src/config/ceremony.ts';
import { csr } from './archive-fixtures.ts';
import { allPassphrases, passphraseMap } from './helpers.ts';

export interface OpOptions {
  file?: string;
  outDir?: string;
  out?: string;
  derOut?: string;
}

/** `secrets`: the parent's test passphrases (they embed its pid; a child is given them). */
export function runOp(
  inst: Installation,
  op: string,
  o: OpOptions,
  secrets: Record<string, string> = allPassphrases(),
): Promise<unknown> {
  const passphrases = passphraseMap(secrets);
  const people = { operator: 'alice', witness: 'olivia', passphrases };
  switch (op) {
    case 'ceremony':
      return runRootCeremony(inst, {
        ceremony: parseRootCeremony(readFileSync(o.file!), o.file!),
        baseDir: o.outDir!,
        passphrases,
      });
    case 'issue':
      return issueCertificate(inst, {
        ...people,
        caName: 'ecc-rootca1',
        profile: 'ocsp',
        csr: csr(`responder ${process.pid}-${Date.now()}`),
        outPem: o.out,
        outDer: o.derOut,
      });
    case 'crl':
      return issueCrl(inst, { ...people, caName: 'ecc-rootca1', out: o.out });
    case 'presign':
      return presignOcsp(inst, { ...people, caName: 'ecc-rootca1' });
    case 'publish':
      return publish(inst, { ...people, signerCa: 'ecc-rootca1', out: o.out! });
    default:
      throw new Error(`unknown operation ${op}`);
  }
}
