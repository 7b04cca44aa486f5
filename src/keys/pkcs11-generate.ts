/**
 * Making a CA key pair in a token (CPS 6.1.1, 6.2.1, 6.2.6; R-6.1, R-6.2): generated inside the
 * primary token, with its user PIN rebuilt from the present custodians' shares, sensitive and
 * non-extractable; backed up to the further tokens in the same session (CPS 6.2.4). After a
 * failure, what was made is deleted from every token it reached.
 */
import { CaError } from '../errors.ts';
import type { UnlockedCredential } from './credential.ts';
import { backupIntoTokens, sealAgainstExtraction, type BackupRecord } from './pkcs11-backup.ts';
import { destroyKeyPair, generateKeyPairInToken, keyProtection, labelInUse, publicKeySpkiOf } from './pkcs11-keys.ts';
import { tokenError, withLoggedInSession, type Handle, type Pkcs11, type SessionEnd } from './pkcs11-module.ts';
import { recoverUserPin } from './pkcs11-shares.ts';
import type { KeyObjectRef, NewKey, NewKeyRequest, Pkcs11Location, TokenPlace } from './ports.ts';
import { wipe } from './wipe.ts';

/** Deletes the key's objects from each token listed; returns the tokens it was removed from. Never throws. */
async function removeFrom(
  tokens: TokenPlace[],
  object: KeyObjectRef,
  present: UnlockedCredential[],
): Promise<string[]> {
  const removed: string[] = [];
  for (const t of tokens) {
    let pin: Buffer | undefined;
    try {
      pin = await recoverUserPin(t, present);
      const ref = { module: t.module, label: t.token, serial: t.serial };
      await withLoggedInSession(ref, pin, 'user', (mod, s) => destroyKeyPair(mod, s, object, t.token));
      removed.push(t.token);
    } catch {
      // reported by the caller's failure record: the token lists what could not be removed
    } finally {
      wipe(pin);
    }
  }
  return removed;
}

interface MadeInToken {
  publicKeySpki: Buffer;
  backups: BackupRecord[];
  protection: ReturnType<typeof keyProtection>;
}

/** Inside the primary token's session: generate, back up, then seal the key against extraction. */
async function makeInSession(
  r: NewKeyRequest,
  tokens: TokenPlace[],
  object: KeyObjectRef,
  made: TokenPlace[],
  mod: Pkcs11,
  session: Handle,
): Promise<MadeInToken> {
  const [primary, ...backups] = tokens as [TokenPlace, ...TokenPlace[]];
  if (labelInUse(mod, session, object.label)) {
    throw new CaError(
      'KEY_LABEL_IN_USE',
      `token ${primary.token} already holds an object labelled "${object.label}"; CA key labels are unique`,
      {
        details: { token: primary.token, keyLabel: object.label },
      },
    );
  }
  let pair;
  try {
    // Extractable only for the few calls until the backups are made, then never again.
    pair = generateKeyPairInToken(mod, session, r.algorithm, object, backups.length > 0);
  } catch (e) {
    throw tokenError(e, primary.token, 'generating the key pair', 'TOKEN_KEYGEN_FAILED');
  }
  made.push(primary);
  const publicKeySpki = publicKeySpkiOf(mod, session, pair.publicKey, r.algorithm);
  let backupRecords: BackupRecord[] = [];
  if (backups.length) {
    try {
      backupRecords = await backupIntoTokens({
        keyId: r.keyId,
        algorithm: r.algorithm,
        object,
        backups,
        threshold: r.threshold,
        present: r.present,
        recipients: r.recipients,
        source: { mod, session, privateKey: pair.privateKey, publicKey: pair.publicKey },
      });
    } finally {
      made.push(...backups.filter((b) => !made.includes(b)));
      try {
        sealAgainstExtraction(mod, session, pair.privateKey);
      } catch {
        // checked just below: a key still extractable fails the ceremony and is discarded
      }
    }
  }
  const protection = keyProtection(mod, session, pair.privateKey);
  if (!protection.token || !protection.private || !protection.sensitive || protection.extractable) {
    throw new CaError(
      'TOKEN_KEY_NOT_PROTECTED',
      `token ${primary.token} did not keep the key sensitive and non-extractable (${JSON.stringify(protection)})`,
      {
        details: { protection },
      },
    );
  }
  return { publicKeySpki, backups: backupRecords, protection };
}

/** The pkcs11 store's generate(): `tokens` are the primary then the backups, all registered. */
export async function generateInTokens(r: NewKeyRequest, tokens: TokenPlace[], object: KeyObjectRef): Promise<NewKey> {
  const primary = tokens[0]!;
  const made: TokenPlace[] = [];
  const discard = () => removeFrom(made, object, r.present);
  let sessionEnd: SessionEnd | undefined;
  let done: MadeInToken;
  const pin = await recoverUserPin(primary, r.present);
  try {
    const ref = { module: primary.module, label: primary.token, serial: primary.serial };
    const inSession = (mod: Pkcs11, session: Handle) => makeInSession(r, tokens, object, made, mod, session);
    done = await withLoggedInSession(ref, pin, 'user', inSession, (end) => {
      sessionEnd = end;
    });
  } catch (e) {
    const removed = await discard();
    if (e instanceof CaError) e.details.keyRemovedFrom = removed;
    throw e;
  } finally {
    wipe(pin);
  }
  const locations: Pkcs11Location[] = tokens.map((t, i) => ({ ...t, role: i === 0 ? 'primary' : 'backup', object }));
  const { publicKeySpki, protection } = done;
  const key = { keyId: r.keyId, algorithm: r.algorithm, publicKeySpki };
  return {
    record: {
      ...key,
      store: 'pkcs11',
      wrappedPrivateKey: Buffer.alloc(0),
      threshold: r.threshold,
      shares: primary.shares,
      locations,
    },
    stored: { ...key, wrappedPrivateKey: null, threshold: r.threshold, shares: [], locations },
    discard,
    details: {
      keyStore: 'pkcs11',
      module: primary.module,
      token: primary.token,
      tokenSerial: primary.serial,
      keyLabel: object.label,
      keyObjectId: object.id.toString('hex'),
      protection: {
        sensitive: protection.sensitive,
        extractable: protection.extractable,
        private: protection.private,
        token: protection.token,
      },
      backups: done.backups,
      // CPS 6.2.9: the generation session was logged out and closed before the certificate is signed.
      generationSession: { loggedOut: sessionEnd?.loggedOut ?? false, closed: sessionEnd?.closed ?? false },
    },
  };
}
