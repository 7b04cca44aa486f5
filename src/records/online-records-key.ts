/**
 * The online records key: an Ed25519 key made on the online side (`rootca online records-key
 * init`) that signs its record bundles and nothing else. Not a CA key and not the OCSP
 * responder key: the online side holds no CA key, and a responder key is certified for OCSP
 * signing only (RFC 6960 4.2.2.2, id-kp-OCSPSigning) and changes with its certificate. Its
 * private key rests sealed under a passphrase (scrypt, AES-256-GCM) in a 0600 file; its public
 * key is registered once on the offline side under a quorum (docs/records-and-audit.md).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { CaError } from '../errors.ts';
import { openWithPassphrase, sealWithPassphrase } from '../keys/sealed-box.ts';
import { wipe } from '../keys/wipe.ts';
import { spkiSha256 } from './online-records-bundle.ts';
import { SOURCE_NAME } from './audit-review.ts';

/** The format name of a records key file. */
export const RECORDS_KEY_FORMAT = 'rootca-online-records-key/1';

/** The key file: the public key in the clear, the private key sealed under the passphrase. */
interface RecordsKeyFile {
  format: typeof RECORDS_KEY_FORMAT;
  source: string;
  kind: 'ed25519';
  publicKey: string;
  publicKeySha256: string;
  sealed: string;
}

const aad = (source: string, sha: string) => Buffer.from(`rootca-online-records-key|${source}|${sha}`);

/** The shortest passphrase accepted for the key file (it is the only protection at rest). */
export const MIN_PASSPHRASE_BYTES = 12;

/** A public key as PEM. */
export function publicKeyPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'spki' }).toString();
}

/** Makes a new records key for `source`, sealed under `passphrase` into `file` (0600, never overwritten). */
export function initRecordsKey(
  file: string,
  source: string,
  passphrase: Buffer,
): { publicKeyPem: string; publicKeySha256: string } {
  if (!SOURCE_NAME.test(source))
    throw new CaError('SOURCE_NAME_INVALID', `--source "${source}" must be lower case letters, digits, . _ -`);
  if (passphrase.length < MIN_PASSPHRASE_BYTES)
    throw new CaError(
      'ONLINE_RECORDS_KEY_INVALID',
      `the passphrase of the records key must be at least ${MIN_PASSPHRASE_BYTES} bytes (it alone protects the key file)`,
    );
  if (existsSync(file))
    throw new CaError('ONLINE_RECORDS_KEY_EXISTS', `${file} exists; a records key is never overwritten`);
  const pair = generateKeyPairSync('ed25519');
  const sha = spkiSha256(pair.publicKey);
  const pkcs8 = pair.privateKey.export({ format: 'der', type: 'pkcs8' });
  try {
    const content: RecordsKeyFile = {
      format: RECORDS_KEY_FORMAT,
      source,
      kind: 'ed25519',
      publicKey: pair.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
      publicKeySha256: sha,
      sealed: sealWithPassphrase(passphrase, pkcs8, aad(source, sha)).toString('base64'),
    };
    writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
  } finally {
    wipe(pkcs8);
  }
  return { publicKeyPem: publicKeyPem(pair.publicKey), publicKeySha256: sha };
}

/** Reads a key file's public part (no passphrase needed). */
export function readRecordsKeyFile(file: string): { source: string; publicKey: KeyObject; content: RecordsKeyFile } {
  let content: RecordsKeyFile;
  try {
    content = JSON.parse(readFileSync(file, 'utf8')) as RecordsKeyFile;
  } catch (e) {
    throw new CaError(
      'ONLINE_RECORDS_KEY_INVALID',
      `${file}: cannot be read as a records key file: ${(e as Error).message}`,
    );
  }
  if (content?.format !== RECORDS_KEY_FORMAT || content.kind !== 'ed25519' || typeof content.sealed !== 'string')
    throw new CaError('ONLINE_RECORDS_KEY_INVALID', `${file}: not a records key file (${RECORDS_KEY_FORMAT})`);
  const publicKey = createPublicKey({ key: Buffer.from(content.publicKey, 'base64'), format: 'der', type: 'spki' });
  return { source: content.source, publicKey, content };
}

/**
 * Opens the key file with its passphrase and returns a signer; the private key lives only in
 * the returned KeyObject (the PKCS#8 bytes are wiped at once). WRONG_PASSPHRASE when it does not open.
 */
export function openRecordsKey(
  file: string,
  passphrase: Buffer,
): { source: string; publicKey: KeyObject; sign(data: Buffer): Buffer } {
  const { source, publicKey, content } = readRecordsKeyFile(file);
  const pkcs8 = openWithPassphrase(
    passphrase,
    Buffer.from(content.sealed, 'base64'),
    aad(source, content.publicKeySha256),
  );
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  } finally {
    wipe(pkcs8);
  }
  return { source, publicKey, sign: (data) => sign(null, data, key) };
}
