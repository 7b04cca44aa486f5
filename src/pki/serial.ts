/**
 * Certificate serial numbers (RFC 5280 4.1.2.2; BR 7.1): "non-sequential Certificate serial
 * numbers greater than zero (0) containing at least 64 bits of output from a CSPRNG".
 * The random bytes are passed in (pki/ never draws randomness itself).
 */
import { CaError } from '../errors.ts';

/** Bytes of CSPRNG output a serial is made from. */
export const SERIAL_RANDOM_BYTES = 16;

/**
 * Turns 16 random bytes into a positive, minimal DER INTEGER content of exactly 16 octets
 * (well under the 20-octet limit): the first octet is forced into 0x01..0x7f, so it is
 * neither negative nor a redundant leading zero; the other 15 octets (120 bits) stay random.
 */
export function serialFromRandom(random: Uint8Array): Buffer {
  if (random.length !== SERIAL_RANDOM_BYTES)
    throw new CaError('SERIAL_INVALID', `serial needs ${SERIAL_RANDOM_BYTES} random bytes`);
  const s = Buffer.from(random);
  s[0] = s[0] & 0x7f || 0x01;
  return s;
}

export function serialToHex(serial: Uint8Array): string {
  return Buffer.from(serial).toString('hex');
}
