/**
 * `--json` is for scripts (issue 20.3, docs/json.md): ids, states, digests and file names.
 * Blobs (DER, PEM, a CSR) are left out unless `--with-blobs` is given, then DER is base64.
 * One rule here instead of one per command, so no command can leak a certificate by default.
 */

/** Field names that hold a blob as text (PEM or base64) rather than as bytes. */
const BLOB_FIELD = /(Der|Pem|Spki)$|^(der|pem)$/;
const isPem = (v: string) => v.startsWith('-----BEGIN ');

/** `value` as it is printed with --json: blobs dropped, or base64 with `withBlobs`. */
export function forScripts(value: unknown, withBlobs: boolean): unknown {
  if (value instanceof Uint8Array) return withBlobs ? Buffer.from(value).toString('base64') : undefined;
  if (typeof value === 'string') return !withBlobs && isPem(value) ? undefined : value;
  if (Array.isArray(value)) return value.map((v) => forScripts(v, withBlobs) ?? null);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!withBlobs && BLOB_FIELD.test(k)) continue;
    const shaped = forScripts(v, withBlobs);
    if (shaped !== undefined) out[k] = shaped;
  }
  return out;
}
