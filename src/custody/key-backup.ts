/**
 * Backing a new CA key up onto further tokens (CPS 6.2.4: "backed up onto an HSM ... The same
 * control scheme as in 6.2.2 applies"). A fresh AES-256 transport key is split M-of-N to the
 * key's custodians and rebuilt from the shares of those present — so the copy needs the same
 * quorum as activation — used to wrap the key in the primary token and unwrap it in each
 * backup token, then destroyed: the token objects at once, the in-memory value wiped, the
 * shares never stored. It runs inside the key-generation ceremony, the one moment the key
 * may be wrapped at all; afterwards CKA_EXTRACTABLE is false everywhere.
 */
import { createHash, randomBytes } from 'node:crypto';
import { CaError } from '../errors.ts';
import { publicAttributes, unwrapFromTransport, wrapForTransport } from '../keys/pkcs11-backup.ts';
import type { KeyObjectRef } from '../keys/pkcs11-keys.ts';
import { tokenError, withLoggedInSession, type Handle, type Pkcs11 } from '../keys/pkcs11-module.ts';
import { recoverFromCustodians, splitToCustodians } from '../keys/pkcs11-shares.ts';
import type { ShareRecipient } from '../keys/soft-store.ts';
import { wipe } from '../keys/wipe.ts';
import type { KeyAlgorithm } from '../pki/algorithms.ts';
import { pinContext, pinShares, type TokenRecord } from './hsm-tokens.ts';
import type { Participant } from '../people/participants.ts';
import type { Installation } from '../installation/installation.ts';

export interface BackupSource {
  mod: Pkcs11;
  session: Handle;
  privateKey: Handle;
  publicKey: Handle;
}

/** What the audit record says about one backup. */
export interface BackupRecord {
  token: string;
  serial: string;
  transportKey: string;
}

export async function backupIntoTokens(
  inst: Installation,
  p: { keyId: string; algorithm: KeyAlgorithm; object: KeyObjectRef; source: BackupSource; backups: TokenRecord[]; recipients: ShareRecipient[]; threshold: number; present: Participant[] },
): Promise<BackupRecord[]> {
  const out: BackupRecord[] = [];
  const creds = p.present.map((c) => c.credential);
  for (const target of p.backups) {
    const context = `transport key for ${p.keyId} to token ${target.label} (serial ${target.serial})`;
    let fresh: Buffer | undefined = randomBytes(32);
    let transport: Buffer | undefined;
    let pin: Buffer | undefined;
    try {
      const shares = await splitToCustodians(fresh, context, p.threshold, p.recipients);
      const fingerprint = createHash('sha256').update('rootca-transport-key-id').update(fresh).digest('hex').slice(0, 16);
      wipe(fresh);
      fresh = undefined;
      transport = await recoverFromCustodians(context, p.threshold, shares, creds);
      let wrapped: Buffer;
      try {
        wrapped = wrapForTransport(p.source.mod, p.source.session, p.source.privateKey, transport);
      } catch (e) {
        throw tokenError(e, 'primary', 'wrapping the key for backup', 'KEY_BACKUP_FAILED');
      }
      const attrs = publicAttributes(p.source.mod, p.source.session, p.source.publicKey, p.algorithm);
      pin = await recoverFromCustodians(pinContext(target, 'user'), target.threshold, pinShares(inst, target.id, 'user'), creds);
      await withLoggedInSession({ module: target.module, label: target.label, serial: target.serial }, pin, 'user', (mod, session) => {
        try {
          unwrapFromTransport(mod, session, wrapped, transport!, p.algorithm, p.object, attrs, target.label);
        } catch (e) {
          throw tokenError(e, target.label, 'unwrapping the backup', 'KEY_BACKUP_FAILED');
        }
      });
      out.push({ token: target.label, serial: target.serial, transportKey: `AES-256 ${fingerprint}, ${p.threshold}-of-${p.recipients.length} (${p.recipients.map((r) => r.name).join(', ')}), rebuilt by ${[...new Set(creds.map((c) => c.operator))].join(', ')}, destroyed` });
    } catch (e) {
      if (e instanceof CaError) throw e;
      throw new CaError('KEY_BACKUP_FAILED', `backup of ${p.keyId} to ${target.label} failed: ${(e as Error).message}`, { cause: e });
    } finally {
      wipe(fresh, transport, pin);
    }
  }
  return out;
}
