/**
 * The OpenSSL CLI as the tests' independent peer: a runner bound to a test's folder, and the
 * `req` config the unit tests make their own test CAs with (so those CAs owe nothing to rootca).
 */
import { spawnSync } from 'node:child_process';

/** `openssl req -x509 -config` for a test root: CA, keyCertSign + cRLSign, SKI. */
export const OPENSSL_CA_CNF = `[req]
distinguished_name = dn
x509_extensions = v3_ca
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
`;

/** A delegated OCSP responder: id-kp-OCSPSigning and id-pkix-ocsp-nocheck. */
export const OPENSSL_RESPONDER_EXT = `basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = OCSPSigning
noCheck = ignored
authorityKeyIdentifier = keyid
subjectKeyIdentifier = hash
`;

export interface OpensslResult {
  status: number;
  stdout: string;
  stderr: string;
  out: string;
}

/** Runs `openssl` in the folder `cwd()` gives (read at each call: tests set it in `before`). */
export function opensslRunner(cwd: () => string) {
  /** Status and output, never throws. */
  const result = (...args: string[]): OpensslResult => {
    const r = spawnSync('openssl', args, { cwd: cwd(), encoding: 'utf8' });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, out: r.stdout + r.stderr };
  };
  /** stdout + stderr; throws with the output when openssl fails. */
  const run = (...args: string[]): string => {
    const r = result(...args);
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} exited ${r.status}:\n${r.out}`);
    return r.out;
  };
  return { result, run };
}
