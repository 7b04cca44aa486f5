/** Initialising a token in a free slot and setting its user PIN (token setup, CPS 6.4.1). */
import { CaError } from '../errors.ts';
import { findToken, listTokens, P11, padLabel, pkcs11Module, tokenError, type TokenRef } from './pkcs11-module.ts';

/** What setting up a token learnt: its serial, which binds the PIN shares to it. */
export interface TokenInitResult {
  serial: string;
}

/** C_InitToken on a free (uninitialised) slot: TOKEN_NO_FREE_SLOT, TOKEN_EXISTS, TOKEN_INIT_FAILED. */
export function initTokenInSlot(p: {
  module: string;
  label: string;
  slotIndex?: number;
  soPin: Buffer;
}): TokenInitResult {
  const mod = pkcs11Module(p.module);
  const tokens = listTokens(mod);
  if (tokens.some((t) => t.initialized && t.label === p.label))
    throw new CaError('TOKEN_EXISTS', `a token labelled "${p.label}" is already present in ${p.module}`);
  const slot = p.slotIndex === undefined ? tokens.find((t) => !t.initialized) : tokens[p.slotIndex];
  if (!slot)
    throw new CaError(
      'TOKEN_NO_FREE_SLOT',
      p.slotIndex === undefined
        ? `${p.module} has no uninitialised slot for a new token`
        : `${p.module} has no slot ${p.slotIndex}`,
    );
  if (slot.initialized)
    throw new CaError(
      'TOKEN_SLOT_IN_USE',
      `slot ${p.slotIndex} already holds token "${slot.label}"; rootca initialises only empty slots`,
    );
  try {
    mod.C_InitToken(slot.slot, p.soPin.toString('latin1'), padLabel(p.label));
  } catch (e) {
    throw tokenError(e, p.label, 'initialising the token', 'TOKEN_INIT_FAILED');
  }
  return { serial: findToken({ module: p.module, label: p.label }).serial };
}

/** The SO sets the generated user PIN; then the user logs in once to prove it works. */
export function finalizeTokenInit(ref: TokenRef, soPin: Buffer, userPin: Buffer): void {
  const mod = pkcs11Module(ref.module);
  const token = findToken(ref);
  const session = mod.C_OpenSession(token.slot, P11.CKF_SERIAL_SESSION | P11.CKF_RW_SESSION);
  try {
    mod.C_Login(session, P11.CKU_SO, soPin.toString('latin1'));
    try {
      mod.C_InitPIN(session, userPin.toString('latin1'));
    } finally {
      mod.C_Logout(session);
    }
  } catch (e) {
    throw tokenError(e, ref.label, 'setting the user PIN', 'TOKEN_INIT_FAILED');
  } finally {
    mod.C_CloseSession(session);
  }
  const check = mod.C_OpenSession(token.slot, P11.CKF_SERIAL_SESSION | P11.CKF_RW_SESSION);
  try {
    mod.C_Login(check, P11.CKU_USER, userPin.toString('latin1'));
    mod.C_Logout(check);
  } catch (e) {
    throw tokenError(e, ref.label, 'trying the new user PIN', 'TOKEN_INIT_FAILED');
  } finally {
    mod.C_CloseSession(check);
  }
}

/**
 * Adopting a token initialised by the vendor's tools (HSMs whose partitions are not made
 * through PKCS#11): the temporary user PIN set there is replaced by `newPin` with C_SetPIN,
 * so from here on nobody knows the PIN. TOKEN_NOT_FOUND, TOKEN_PIN_INCORRECT.
 */
export function adoptToken(ref: TokenRef, currentPin: Buffer, newPin: Buffer): TokenInitResult {
  const mod = pkcs11Module(ref.module);
  const token = findToken(ref);
  const session = mod.C_OpenSession(token.slot, P11.CKF_SERIAL_SESSION | P11.CKF_RW_SESSION);
  try {
    try {
      mod.C_Login(session, P11.CKU_USER, currentPin.toString('latin1'));
    } catch (e) {
      throw tokenError(e, ref.label, 'logging in with the current PIN');
    }
    try {
      mod.C_SetPIN(session, currentPin.toString('latin1'), newPin.toString('latin1'));
    } catch (e) {
      throw tokenError(e, ref.label, 'changing the user PIN', 'TOKEN_INIT_FAILED');
    } finally {
      mod.C_Logout(session);
    }
    mod.C_Login(session, P11.CKU_USER, newPin.toString('latin1'));
    mod.C_Logout(session);
  } finally {
    mod.C_CloseSession(session);
  }
  return { serial: token.serial };
}
