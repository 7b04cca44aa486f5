/**
 * The one place a key store is chosen (CONVENTIONS 8): by the name a key record or a ceremony
 * file carries. Everything else talks to the KeyStore port.
 */
import { CaError } from '../errors.ts';
import { pkcs11KeyStore } from './pkcs11-store.ts';
import type { KeyStore } from './ports.ts';
import { softKeyStore } from './soft-store.ts';

const STORES: Record<string, KeyStore> = { soft: softKeyStore, pkcs11: pkcs11KeyStore };

/** The adapter named `name`; KEY_STORE_MISMATCH for a store this rootca does not know. */
export function keyStoreNamed(name: string, keyId?: string): KeyStore {
  const store = Object.hasOwn(STORES, name) ? STORES[name] : undefined;
  if (!store) throw new CaError('KEY_STORE_MISMATCH', `key ${keyId ?? ''} lives in the ${name} key store`);
  return store;
}
