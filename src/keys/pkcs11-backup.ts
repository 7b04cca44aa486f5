/**
 * Copying a CA key from one token to another (CPS 6.2.4, 6.2.6): the private key is wrapped in
 * the source token under an AES-256 transport key (RFC 5649 key wrap with padding) and
 * unwrapped inside the target token as sensitive and non-extractable. The transport key is
 * imported into each token only as a session object and destroyed right after use; outside
 * the tokens it exists only in memory.
 *
 * CPS 6.2.4: "backed up onto an HSM ... The same control scheme as in 6.2.2 applies". A fresh
 * transport key is split M-of-N to the key's custodians and rebuilt from the shares of those
 * present — so the copy needs the same quorum as activation — then destroyed: the token
 * objects at once, the in-memory value wiped, the shares never stored. It runs inside the
 * key-generation ceremony, the one moment the key may be wrapped at all; afterwards
 * CKA_EXTRACTABLE is false everywhere.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { UnlockedCredential } from './credential.ts';
import { CaError } from '../errors.ts';
import type { KeyAlgorithm } from '../pki/algorithms.ts';
import { keyProtection, labelInUse } from './pkcs11-keys.ts';
import { P11, tokenError, withLoggedInSession, type Handle, type Pkcs11 } from './pkcs11-module.ts';
import { recoverFromCustodians, recoverUserPin, splitToCustodians } from './pkcs11-shares.ts';
import type { KeyObjectRef, ShareRecipient, TokenPlace } from './ports.ts';
import { wipe } from './wipe.ts';

/** RFC 5649 AES key wrap with padding (read when used: the binding loads on first use). */
const wrapMechanism = () => ({ mechanism: P11.CKM_AES_KEY_WRAP_PAD });

function importTransportKey(mod: Pkcs11, session: Handle, value: Buffer, use: 'wrap' | 'unwrap'): Handle {
  return mod.C_CreateObject(session, [
    { type: P11.CKA_CLASS, value: P11.CKO_SECRET_KEY },
    { type: P11.CKA_KEY_TYPE, value: P11.CKK_AES },
    { type: P11.CKA_TOKEN, value: false },
    { type: P11.CKA_SENSITIVE, value: true },
    { type: P11.CKA_EXTRACTABLE, value: false },
    { type: P11.CKA_LABEL, value: 'rootca-transport' },
    { type: P11.CKA_WRAP, value: use === 'wrap' },
    { type: P11.CKA_UNWRAP, value: use === 'unwrap' },
    { type: P11.CKA_VALUE, value },
  ]);
}

/** In the source session: the private key wrapped under the transport key (the transport object is destroyed). */
export function wrapForTransport(mod: Pkcs11, session: Handle, privateKey: Handle, transportKey: Buffer): Buffer {
  const tk = importTransportKey(mod, session, transportKey, 'wrap');
  try {
    return mod.C_WrapKey(session, wrapMechanism(), tk, privateKey, Buffer.alloc(16384));
  } finally {
    mod.C_DestroyObject(session, tk);
  }
}

/** Public-key attributes to recreate the public object in the target token. */
export function publicAttributes(
  mod: Pkcs11,
  session: Handle,
  publicKey: Handle,
  algorithm: KeyAlgorithm,
): { type: number; value: Buffer }[] {
  const types =
    algorithm.kind === 'rsa' ? [P11.CKA_MODULUS, P11.CKA_PUBLIC_EXPONENT] : [P11.CKA_EC_PARAMS, P11.CKA_EC_POINT];
  return mod
    .C_GetAttributeValue(
      session,
      publicKey,
      types.map((type) => ({ type })),
    )
    .map((a) => ({ type: a.type, value: a.value as Buffer }));
}

/**
 * In the target session: unwraps the key as a token object that is private, sensitive, never
 * extractable and can only sign, with the same label and id; recreates the public object.
 * Throws KEY_LABEL_IN_USE when the target already has an object with that label.
 */
export function unwrapFromTransport(
  mod: Pkcs11,
  session: Handle,
  wrapped: Buffer,
  transportKey: Buffer,
  algorithm: KeyAlgorithm,
  ref: KeyObjectRef,
  publicAttrs: { type: number; value: Buffer }[],
  token: string,
): Handle {
  if (labelInUse(mod, session, ref.label))
    throw new CaError('KEY_LABEL_IN_USE', `token ${token} already holds an object labelled "${ref.label}"`, {
      details: { token, keyLabel: ref.label },
    });
  const keyType = algorithm.kind === 'rsa' ? P11.CKK_RSA : P11.CKK_EC;
  const tk = importTransportKey(mod, session, transportKey, 'unwrap');
  let privateKey: Handle;
  try {
    privateKey = mod.C_UnwrapKey(session, wrapMechanism(), tk, wrapped, [
      { type: P11.CKA_CLASS, value: P11.CKO_PRIVATE_KEY },
      { type: P11.CKA_KEY_TYPE, value: keyType },
      { type: P11.CKA_TOKEN, value: true },
      { type: P11.CKA_PRIVATE, value: true },
      { type: P11.CKA_SENSITIVE, value: true },
      { type: P11.CKA_EXTRACTABLE, value: false },
      { type: P11.CKA_SIGN, value: true },
      { type: P11.CKA_DECRYPT, value: false },
      { type: P11.CKA_UNWRAP, value: false },
      { type: P11.CKA_LABEL, value: ref.label },
      { type: P11.CKA_ID, value: ref.id },
    ]);
  } finally {
    mod.C_DestroyObject(session, tk);
    wipe(wrapped);
  }
  mod.C_CreateObject(session, [
    { type: P11.CKA_CLASS, value: P11.CKO_PUBLIC_KEY },
    { type: P11.CKA_KEY_TYPE, value: keyType },
    { type: P11.CKA_TOKEN, value: true },
    { type: P11.CKA_PRIVATE, value: false },
    { type: P11.CKA_VERIFY, value: true },
    { type: P11.CKA_LABEL, value: ref.label },
    { type: P11.CKA_ID, value: ref.id },
    ...publicAttrs,
  ]);
  const prot = keyProtection(mod, session, privateKey);
  if (!prot.sensitive || prot.extractable || !prot.token || !prot.private) {
    throw new CaError(
      'TOKEN_KEY_NOT_PROTECTED',
      `token ${token} did not keep the backup key sensitive and non-extractable (${JSON.stringify(prot)})`,
      { details: { token, protection: prot } },
    );
  }
  return privateKey;
}

/** Turns CKA_EXTRACTABLE off for good (PKCS#11 allows true -> false only). */
export function sealAgainstExtraction(mod: Pkcs11, session: Handle, privateKey: Handle): void {
  mod.C_SetAttributeValue(session, privateKey, [{ type: P11.CKA_EXTRACTABLE, value: false }]);
}

/** The key being backed up, in the primary token's open session. */
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

/** Copies the key from the source session into each backup token, under a fresh transport key each. */
export async function backupIntoTokens(p: {
  keyId: string;
  algorithm: KeyAlgorithm;
  object: KeyObjectRef;
  source: BackupSource;
  backups: TokenPlace[];
  recipients: ShareRecipient[];
  threshold: number;
  present: UnlockedCredential[];
}): Promise<BackupRecord[]> {
  const out: BackupRecord[] = [];
  for (const target of p.backups) {
    const context = `transport key for ${p.keyId} to token ${target.token} (serial ${target.serial})`;
    let fresh: Buffer | undefined = randomBytes(32);
    let transport: Buffer | undefined;
    let pin: Buffer | undefined;
    try {
      const shares = await splitToCustodians(fresh, context, p.threshold, p.recipients);
      const fingerprint = createHash('sha256')
        .update('rootca-transport-key-id')
        .update(fresh)
        .digest('hex')
        .slice(0, 16);
      wipe(fresh);
      fresh = undefined;
      transport = await recoverFromCustodians(context, p.threshold, shares, p.present);
      let wrapped: Buffer;
      try {
        wrapped = wrapForTransport(p.source.mod, p.source.session, p.source.privateKey, transport);
      } catch (e) {
        throw tokenError(e, 'primary', 'wrapping the key for backup', 'KEY_BACKUP_FAILED');
      }
      const attrs = publicAttributes(p.source.mod, p.source.session, p.source.publicKey, p.algorithm);
      pin = await recoverUserPin(target, p.present);
      await withLoggedInSession(
        { module: target.module, label: target.token, serial: target.serial },
        pin,
        'user',
        (mod, session) => {
          try {
            unwrapFromTransport(mod, session, wrapped, transport!, p.algorithm, p.object, attrs, target.token);
          } catch (e) {
            throw tokenError(e, target.token, 'unwrapping the backup', 'KEY_BACKUP_FAILED');
          }
        },
      );
      const quorum = [...new Set(p.present.map((c) => c.operator))].join(', ');
      const holders = `${p.threshold}-of-${p.recipients.length} (${p.recipients.map((r) => r.name).join(', ')})`;
      out.push({
        token: target.token,
        serial: target.serial,
        transportKey: `AES-256 ${fingerprint}, ${holders}, rebuilt by ${quorum}, destroyed`,
      });
    } catch (e) {
      if (e instanceof CaError) throw e;
      throw new CaError(
        'KEY_BACKUP_FAILED',
        `backup of ${p.keyId} to ${target.token} failed: ${(e as Error).message}`,
        { cause: e },
      );
    } finally {
      wipe(fresh, transport, pin);
    }
  }
  return out;
}
