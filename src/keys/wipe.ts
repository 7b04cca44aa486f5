/**
 * Zeroizes buffers that held plaintext key material (CPS 6.2.9: a key is deactivated after
 * use, so its plaintext must not linger in memory; CPS 6.2.10: destruction zeroizes).
 * Only the bytes in each view are cleared: a Buffer sliced from Node's pool leaves its
 * neighbours alone. `undefined`/`null` entries are skipped so callers can wipe in `finally`.
 */
export function wipe(...bufs: (Uint8Array | undefined | null)[]): void {
  for (const b of bufs) {
    if (b) b.fill(0);
  }
}
