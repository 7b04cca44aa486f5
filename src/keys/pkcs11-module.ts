/**
 * Loading a PKCS#11 module and finding tokens (adapter `pkcs11`, CPS 6.2.1, 6.2.11). A module
 * is loaded and C_Initialize'd once per process and library path (PKCS#11 allows one
 * initialisation per process; SoftHSMv2 reads SOFTHSM2_CONF at that moment), then cached.
 * Token errors become CaErrors with stable codes so refusals read the same on any HSM.
 */
import { createRequire } from 'node:module';
import type Pkcs11js from 'pkcs11js';
import { CaError, type ErrorCode } from '../errors.ts';

/** An initialised PKCS#11 module. */
export type Pkcs11 = InstanceType<typeof Pkcs11js.PKCS11>;
/** A session or object handle, as pkcs11js gives it. */
export type Handle = Buffer;

let binding: typeof Pkcs11js | undefined;
/**
 * The native binding, loaded on first use: a command that never touches a token (`ca list`,
 * issuance from a soft key) does not load it (issue 18: start-up loads only what it runs).
 */
function pkcs11js(): typeof Pkcs11js {
  binding ??= createRequire(import.meta.url)('pkcs11js') as typeof Pkcs11js;
  return binding;
}

/** The binding's constants (CKA_*, CKM_*, CKF_*...), read from it when first used. */
export const P11: typeof Pkcs11js = new Proxy({} as typeof Pkcs11js, {
  get: (_, name) => Reflect.get(pkcs11js(), name),
});

const modules = new Map<string, Pkcs11>();

/** The initialised module at `path` (loaded on first use). */
export function pkcs11Module(path: string): Pkcs11 {
  const cached = modules.get(path);
  if (cached) return cached;
  const mod = new (pkcs11js().PKCS11)();
  try {
    mod.load(path);
    mod.C_Initialize();
  } catch (e) {
    throw new CaError(
      'PKCS11_MODULE_UNAVAILABLE',
      `the PKCS#11 module ${path} cannot be loaded: ${(e as Error).message}`,
      { cause: e, details: { module: path } },
    );
  }
  modules.set(path, mod);
  return mod;
}

/** Finalises every module this process loaded (tests and the CLI call it at exit). */
export function finalizePkcs11Modules(): void {
  for (const [path, mod] of modules) {
    try {
      mod.C_Finalize();
      mod.close();
    } catch {
      // a module that fails to finalise at exit has nothing left to protect
    }
    modules.delete(path);
  }
}

/** PKCS#11 pads labels with blanks (some modules with NULs); compare them trimmed. */
export const trimLabel = (s: string): string => s.replace(/[\s\0]+$/u, '');
/** A label as C_InitToken wants it: 32 characters, blank-padded. */
export const padLabel = (s: string): string => s.padEnd(32, ' ');

/** Return codes meaning the token (or its slot) is gone or unusable, whatever the vendor. */
const GONE = [
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_DEVICE_REMOVED',
  'CKR_DEVICE_ERROR',
  'CKR_GENERAL_ERROR',
  'CKR_SLOT_ID_INVALID',
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_TOKEN_NOT_RECOGNIZED',
  'CKR_OBJECT_HANDLE_INVALID',
  'CKR_KEY_HANDLE_INVALID',
];

/** A PKCS#11 failure as a CaError: the token gone, a wrong PIN, or `code` for anything else. */
export function tokenError(
  e: unknown,
  token: string,
  doing: string,
  code: ErrorCode = 'TOKEN_OPERATION_FAILED',
): CaError {
  if (e instanceof CaError) return e;
  const rv = (e as Error).message?.split(':')[0] ?? String(e);
  const details = { token, pkcs11: rv };
  if (GONE.includes(rv))
    return new CaError(
      'TOKEN_UNAVAILABLE',
      `token ${token} became unavailable while ${doing} (${rv}): was it removed?`,
      { cause: e, details },
    );
  if (rv === 'CKR_PIN_INCORRECT' || rv === 'CKR_PIN_LEN_RANGE')
    return new CaError(
      'TOKEN_PIN_INCORRECT',
      `token ${token} refused the PIN rebuilt from the custodians' shares (${rv})`,
      { cause: e, details },
    );
  if (rv === 'CKR_PIN_LOCKED')
    return new CaError(
      'TOKEN_PIN_LOCKED',
      `token ${token}: the user PIN is locked (${rv}); the security officer must unlock it`,
      { cause: e, details },
    );
  return new CaError(code, `token ${token}: ${doing} failed (${rv})`, { cause: e, details });
}

/** Which token: by module and label, and by serial when known (a swapped token is caught). */
export interface TokenRef {
  /** Module (library) path. */
  module: string;
  /** Token label; the token is found by it (and checked against `serial` when given). */
  label: string;
  serial?: string;
}

/** A token found in a slot of the module. */
export interface FoundToken {
  slot: Handle;
  label: string;
  serial: string;
  initialized: boolean;
}

/** Tokens in the module's slots; a slot whose token cannot report itself (being removed) is left out. */
export function listTokens(mod: Pkcs11): FoundToken[] {
  return mod.C_GetSlotList(true).flatMap((slot) => {
    try {
      const info = mod.C_GetTokenInfo(slot);
      return [
        {
          slot,
          label: trimLabel(info.label),
          serial: trimLabel(info.serialNumber),
          initialized: (info.flags & P11.CKF_TOKEN_INITIALIZED) !== 0,
        },
      ];
    } catch {
      return [];
    }
  });
}

/** The slot holding the token, or TOKEN_NOT_FOUND (absent) / TOKEN_SERIAL_MISMATCH (a different token under that label). */
export function findToken(ref: TokenRef): FoundToken {
  const mod = pkcs11Module(ref.module);
  let tokens: FoundToken[];
  try {
    tokens = listTokens(mod);
  } catch (e) {
    throw tokenError(e, ref.label, 'listing the slots');
  }
  const hits = tokens.filter((t) => t.initialized && t.label === ref.label);
  if (hits.length === 0)
    throw new CaError(
      'TOKEN_NOT_FOUND',
      `no token labelled "${ref.label}" is present in ${ref.module} (present: ${
        tokens
          .filter((t) => t.initialized)
          .map((t) => t.label)
          .join(', ') || 'none'
      })`,
      { details: { token: ref.label, module: ref.module } },
    );
  if (hits.length > 1)
    throw new CaError('TOKEN_AMBIGUOUS', `${hits.length} tokens are labelled "${ref.label}"; labels must be unique`, {
      details: { token: ref.label },
    });
  const t = hits[0]!;
  if (ref.serial && t.serial !== ref.serial) {
    throw new CaError(
      'TOKEN_SERIAL_MISMATCH',
      `the token labelled "${ref.label}" has serial ${t.serial}, not ${ref.serial} as recorded: a different token carries that label`,
      { details: { token: ref.label, expected: ref.serial, found: t.serial } },
    );
  }
  return t;
}

/** What happened to a logged-in session at its end, for the audit record (CPS 6.2.9). */
export interface SessionEnd {
  loggedOut: boolean;
  closed: boolean;
}

/**
 * Opens a read-write session on the token, logs in as `user` with `pin`, runs `fn`, and
 * always logs out and closes the session afterwards (CPS 6.2.9: deactivated after use).
 * `ended` receives what the logout/close achieved (a removed token cannot log out).
 */
export async function withLoggedInSession<T>(
  ref: TokenRef,
  pin: Buffer,
  who: 'user' | 'so',
  fn: (mod: Pkcs11, session: Handle) => Promise<T> | T,
  ended?: (e: SessionEnd) => void,
): Promise<T> {
  const mod = pkcs11Module(ref.module);
  const session = openSession(mod, ref);
  let loggedIn = false;
  try {
    logIn(mod, session, who, pin, ref.label);
    loggedIn = true;
    return await fn(mod, session);
  } finally {
    const end = endSession(mod, session, loggedIn);
    ended?.(end);
  }
}

/** Opens a read-write session on the token: TOKEN_NOT_FOUND, TOKEN_UNAVAILABLE. */
export function openSession(mod: Pkcs11, ref: TokenRef): Handle {
  const token = findToken(ref);
  try {
    return mod.C_OpenSession(token.slot, P11.CKF_SERIAL_SESSION | P11.CKF_RW_SESSION);
  } catch (e) {
    throw tokenError(e, ref.label, 'opening a session');
  }
}

/** Logs in as the user or the security officer: TOKEN_PIN_INCORRECT, TOKEN_PIN_LOCKED, TOKEN_UNAVAILABLE. */
export function logIn(mod: Pkcs11, session: Handle, who: 'user' | 'so', pin: Buffer, label: string): void {
  try {
    mod.C_Login(session, who === 'so' ? P11.CKU_SO : P11.CKU_USER, pin.toString('latin1'));
  } catch (e) {
    throw tokenError(e, label, 'logging in');
  }
}

/** Logs out (when logged in) and closes the session, whatever the token's state (CPS 6.2.9). */
export function endSession(mod: Pkcs11, session: Handle, loggedIn: boolean): SessionEnd {
  const end: SessionEnd = { loggedOut: false, closed: false };
  if (loggedIn) {
    try {
      mod.C_Logout(session);
      end.loggedOut = true;
    } catch {
      // the token is gone: nothing is logged in any more
    }
  }
  try {
    mod.C_CloseSession(session);
    end.closed = true;
  } catch {
    // as above
  }
  return end;
}
