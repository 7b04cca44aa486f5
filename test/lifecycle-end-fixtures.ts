/** Shared by the compromise and termination tests: the refusal assertion (from helpers.ts) and CLI passphrases. */
import { allPassphrases } from './helpers.ts';

export { rejectsWith } from './helpers.ts';

/** Every test person's passphrase as ROOTCA_PASSPHRASE_<NAME>, for bin/rootca.mjs. */
export function passphraseEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(allPassphrases()).map(([k, v]) => [`ROOTCA_PASSPHRASE_${k.toUpperCase()}`, v]),
  );
}
