/**
 * AES-256-GCM with a 96-bit IV and a 128-bit tag (NIST SP 800-38D), the one authenticated
 * cipher at rest: sealed boxes, passphrase-sealed credentials and the soft store's wrapped keys.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { wipe } from './wipe.ts';

/** Bytes of the IV each seal draws fresh. */
export const IV_LENGTH = 12;
/** Bytes of the authentication tag. */
export const TAG_LENGTH = 16;

/** Encrypts `plaintext` under `key` with a fresh IV, authenticating `aad` too. */
export function gcmSeal(
  key: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): { iv: Buffer; tag: Buffer; ct: Buffer } {
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ct };
}

/** Returns the plaintext, or undefined when authentication fails. Intermediate buffers are wiped. */
export function gcmOpen(
  key: Uint8Array,
  iv: Uint8Array,
  tag: Uint8Array,
  ct: Uint8Array,
  aad: Uint8Array,
): Buffer | undefined {
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_LENGTH });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const head = decipher.update(ct);
  try {
    const tail = decipher.final();
    const out = Buffer.concat([head, tail]);
    wipe(head, tail);
    return out;
  } catch {
    wipe(head);
    return undefined;
  }
}
