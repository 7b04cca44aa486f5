/**
 * The register of PKCS#11 tokens this installation uses (CPS 6.2.1, 6.2.4, 6.4.1): label,
 * serial, module, and the sealed M-of-N shares of each token's PINs. No PIN is ever stored.
 */
import { CaError } from '../errors.ts';
import type { PinKind } from '../keys/pkcs11-shares.ts';
import type { KeyObjectRef, SealedShare, TokenPlace } from '../keys/ports.ts';
import type { Installation } from '../installation/installation.ts';
import { getOperator, getOperatorById } from '../people/operators.ts';
import {
  findHsmTokenByLabel,
  hsmPinSharesOf,
  insertHsmPinShare,
  insertHsmToken,
  listHsmTokens,
  type HsmTokenRow,
} from '../store/hsm-tokens.ts';
import { insertKeyObject } from '../store/ca-key-objects.ts';

/** A registered token as custody sees it: where it is, and who holds its user PIN (M-of-N). */
export interface TokenRecord {
  id: number;
  label: string;
  serial: string;
  module: string;
  threshold: number;
  status: string;
  /** Holders of the user PIN's shares, in share order. */
  holders: string[];
}

function toRecord(inst: Installation, r: HsmTokenRow): TokenRecord {
  return {
    id: r.id,
    label: r.label,
    serial: r.serial,
    module: r.module_path,
    threshold: r.threshold,
    status: r.status,
    holders: pinShares(inst, r.id, 'user').map((s) => s.custodian),
  };
}

/** The registered token with this label, or undefined. */
export function findTokenRecord(inst: Installation, label: string): TokenRecord | undefined {
  const r = findHsmTokenByLabel(inst.db, label);
  return r && toRecord(inst, r);
}

/** The registered, active token with this label; TOKEN_UNKNOWN or TOKEN_RETIRED otherwise. */
export function getTokenRecord(inst: Installation, label: string): TokenRecord {
  const t = findTokenRecord(inst, label);
  if (!t)
    throw new CaError(
      'TOKEN_UNKNOWN',
      `token "${label}" is not registered in this installation; set it up with \`rootca token init\` first`,
      { details: { token: label } },
    );
  if (t.status !== 'active')
    throw new CaError('TOKEN_RETIRED', `token "${label}" was retired`, { details: { token: label } });
  return t;
}

/** Every registered token, in the order they were set up (`rootca token list`). */
export function listTokenRecords(inst: Installation): TokenRecord[] {
  return listHsmTokens(inst.db).map((r) => toRecord(inst, r));
}

/** The sealed shares of one of a token's PINs, in share order, with their custodians' names. */
export function pinShares(inst: Installation, tokenId: number, kind: PinKind): SealedShare[] {
  return hsmPinSharesOf(inst.db, tokenId, kind).map((s) => ({
    custodian: getOperatorById(inst, s.custodian_id).name,
    index: s.share_index,
    sealed: s.sealed,
  }));
}

/** Inside the caller's transaction. */
export function storeTokenRecord(
  inst: Installation,
  t: {
    label: string;
    serial: string;
    module: string;
    threshold: number;
    shares: Record<PinKind, SealedShare[]>;
    now: string;
  },
): number {
  const id = insertHsmToken(inst.db, {
    label: t.label,
    serial: t.serial,
    module: t.module,
    threshold: t.threshold,
    createdAt: t.now,
  });
  for (const kind of ['user', 'so'] as const) {
    for (const s of t.shares[kind])
      insertHsmPinShare(inst.db, {
        tokenId: id,
        kind,
        custodianId: getOperator(inst, s.custodian).id,
        index: s.index,
        sealed: s.sealed,
      });
  }
  return id;
}

/** Inside the caller's transaction: the key now has objects in this token. */
export function storeKeyObject(
  inst: Installation,
  o: { keyId: string; tokenId: number; object: KeyObjectRef; role: 'primary' | 'backup'; now: string },
): void {
  insertKeyObject(inst.db, {
    keyId: o.keyId,
    tokenId: o.tokenId,
    objectLabel: o.object.label,
    objectId: o.object.id,
    role: o.role,
    createdAt: o.now,
  });
}

/** A registered token as the pkcs11 key store takes it: where it is and its user-PIN shares. */
export function tokenPlace(inst: Installation, t: TokenRecord): TokenPlace {
  return {
    tokenId: t.id,
    token: t.label,
    serial: t.serial,
    module: t.module,
    threshold: t.threshold,
    shares: pinShares(inst, t.id, 'user'),
  };
}
