/**
 * CA key pairs inside a PKCS#11 token (CPS 6.1.1, 6.2.6, 6.2.7): generated in the token as
 * CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE and not CKA_EXTRACTABLE, so the private key never
 * leaves it; the public key is read back from the token (it is what the certificate names).
 * Signing: RSA PKCS#1 v1.5 with the hash inside the token (CKM_SHAx_RSA_PKCS), ECDSA over a
 * hash made here (CKM_ECDSA, which every HSM has), its raw r||s turned into DER.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { CaError } from '../errors.ts';
import { SIGNATURE_ALGORITHMS, type KeyAlgorithm, type SignatureAlgorithmName } from '../pki/algorithms.ts';
import { P11, tokenError, type Handle, type Pkcs11 } from './pkcs11-module.ts';
import type { KeyObjectRef } from './ports.ts';

/** DER of the named-curve OIDs as CKA_EC_PARAMS wants them. */
const EC_PARAMS: Record<'P-256' | 'P-384', Buffer> = {
  'P-256': Buffer.from('06082a8648ce3d030107', 'hex'),
  'P-384': Buffer.from('06052b81040022', 'hex'),
};
const COORDINATE_BYTES = { 'P-256': 32, 'P-384': 48 } as const;

/** The two objects C_GenerateKeyPair makes. */
export interface KeyPairHandles {
  privateKey: Handle;
  publicKey: Handle;
}

/**
 * Generates a key pair in the token. `extractable` is false for every CA key; it is true only
 * inside a backup ceremony, which wraps the key at once and then turns it off for good
 * (PKCS#11 lets CKA_EXTRACTABLE go from true to false, never back).
 */
export function generateKeyPairInToken(
  mod: Pkcs11,
  session: Handle,
  algorithm: KeyAlgorithm,
  ref: KeyObjectRef,
  extractable = false,
): KeyPairHandles {
  const common = [
    { type: P11.CKA_TOKEN, value: true },
    { type: P11.CKA_LABEL, value: ref.label },
    { type: P11.CKA_ID, value: ref.id },
  ];
  const pub = [...common, { type: P11.CKA_VERIFY, value: true }, { type: P11.CKA_PRIVATE, value: false }];
  const priv = [
    ...common,
    { type: P11.CKA_PRIVATE, value: true },
    { type: P11.CKA_SENSITIVE, value: true },
    { type: P11.CKA_EXTRACTABLE, value: extractable },
    { type: P11.CKA_SIGN, value: true },
    { type: P11.CKA_DECRYPT, value: false },
    { type: P11.CKA_UNWRAP, value: false },
  ];
  if (algorithm.kind === 'rsa') {
    pub.push(
      { type: P11.CKA_MODULUS_BITS, value: algorithm.modulusBits } as never,
      { type: P11.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) } as never,
    );
    return mod.C_GenerateKeyPair(session, { mechanism: P11.CKM_RSA_PKCS_KEY_PAIR_GEN }, pub, priv);
  }
  pub.push({ type: P11.CKA_EC_PARAMS, value: EC_PARAMS[algorithm.curve] } as never);
  return mod.C_GenerateKeyPair(session, { mechanism: P11.CKM_EC_KEY_PAIR_GEN }, pub, priv);
}

/** The SubjectPublicKeyInfo DER of a public key object, as the token reports it. */
export function publicKeySpkiOf(mod: Pkcs11, session: Handle, publicKey: Handle, algorithm: KeyAlgorithm): Buffer {
  if (algorithm.kind === 'rsa') {
    const [n, e] = mod.C_GetAttributeValue(session, publicKey, [
      { type: P11.CKA_MODULUS },
      { type: P11.CKA_PUBLIC_EXPONENT },
    ]);
    const jwk = {
      kty: 'RSA',
      n: (n!.value as Buffer).toString('base64url'),
      e: (e!.value as Buffer).toString('base64url'),
    };
    return createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' });
  }
  const [point] = mod.C_GetAttributeValue(session, publicKey, [{ type: P11.CKA_EC_POINT }]);
  const raw = unwrapOctetString(point!.value as Buffer);
  const size = COORDINATE_BYTES[algorithm.curve];
  if (raw.length !== 1 + 2 * size || raw[0] !== 4)
    throw new CaError(
      'TOKEN_KEY_INVALID',
      `the token returned an EC point of ${raw.length} bytes for ${algorithm.curve}`,
    );
  const jwk = {
    kty: 'EC',
    crv: algorithm.curve,
    x: raw.subarray(1, 1 + size).toString('base64url'),
    y: raw.subarray(1 + size).toString('base64url'),
  };
  return createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' });
}

/** CKA_EC_POINT is a DER OCTET STRING around the point (PKCS#11 2.40); a few modules give it bare. */
function unwrapOctetString(b: Buffer): Buffer {
  if (b[0] !== 0x04 || b.length < 2) return b;
  let len = b[1]!;
  let off = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = b.readUIntBE(2, n);
    off = 2 + n;
  }
  return off + len === b.length ? b.subarray(off) : b;
}

/** Private and public key objects with the label and id; the private key must be there. */
export function findKeyPair(
  mod: Pkcs11,
  session: Handle,
  ref: KeyObjectRef,
  token: string,
): { privateKey: Handle; publicKey?: Handle } {
  const find = (cls: number) => {
    mod.C_FindObjectsInit(session, [
      { type: P11.CKA_CLASS, value: cls },
      { type: P11.CKA_LABEL, value: ref.label },
      { type: P11.CKA_ID, value: ref.id },
    ]);
    try {
      return mod.C_FindObjects(session, 2);
    } finally {
      mod.C_FindObjectsFinal(session);
    }
  };
  const priv = find(P11.CKO_PRIVATE_KEY);
  if (priv.length === 0)
    throw new CaError(
      'TOKEN_KEY_NOT_FOUND',
      `token ${token} holds no private key labelled "${ref.label}" with id ${ref.id.toString('hex')}`,
      { details: { token, keyLabel: ref.label } },
    );
  if (priv.length > 1)
    throw new CaError('TOKEN_KEY_AMBIGUOUS', `token ${token} holds several private keys labelled "${ref.label}"`, {
      details: { token, keyLabel: ref.label },
    });
  return { privateKey: priv[0]!, publicKey: find(P11.CKO_PUBLIC_KEY)[0] };
}

/** Whether any object (of any class) carries this label in the token: labels of CA keys are unique. */
export function labelInUse(mod: Pkcs11, session: Handle, label: string): boolean {
  mod.C_FindObjectsInit(session, [{ type: P11.CKA_LABEL, value: label }]);
  try {
    return mod.C_FindObjects(session, 1).length > 0;
  } finally {
    mod.C_FindObjectsFinal(session);
  }
}

/** Security attributes of a private key object, as the token reports them. */
export function keyProtection(
  mod: Pkcs11,
  session: Handle,
  privateKey: Handle,
): {
  token: boolean;
  private: boolean;
  sensitive: boolean;
  extractable: boolean;
  neverExtractable: boolean;
  alwaysSensitive: boolean;
} {
  const a = mod
    .C_GetAttributeValue(session, privateKey, [
      { type: P11.CKA_TOKEN },
      { type: P11.CKA_PRIVATE },
      { type: P11.CKA_SENSITIVE },
      { type: P11.CKA_EXTRACTABLE },
      { type: P11.CKA_NEVER_EXTRACTABLE },
      { type: P11.CKA_ALWAYS_SENSITIVE },
    ])
    .map((x) => (x.value as Buffer)[0] === 1);
  return {
    token: a[0]!,
    private: a[1]!,
    sensitive: a[2]!,
    extractable: a[3]!,
    neverExtractable: a[4]!,
    alwaysSensitive: a[5]!,
  };
}

/** RSA PKCS#1 v1.5 mechanisms with the hash inside the token (read when used: the binding loads on first use). */
const rsaMechanisms = (): Partial<Record<SignatureAlgorithmName, number>> => ({
  sha1WithRSAEncryption: P11.CKM_SHA1_RSA_PKCS,
  sha256WithRSAEncryption: P11.CKM_SHA256_RSA_PKCS,
  sha384WithRSAEncryption: P11.CKM_SHA384_RSA_PKCS,
  sha512WithRSAEncryption: P11.CKM_SHA512_RSA_PKCS,
});

/**
 * One signature with the private key: the bytes that go into the BIT STRING (PKCS#1 v1.5 for
 * RSA, DER ECDSA-Sig-Value for ECDSA).
 */
export function signInToken(
  mod: Pkcs11,
  session: Handle,
  privateKey: Handle,
  algorithm: KeyAlgorithm,
  name: SignatureAlgorithmName,
  data: Uint8Array,
): Buffer {
  const info = SIGNATURE_ALGORITHMS[name];
  if (!info || info.keyKind !== algorithm.kind)
    throw new CaError('ALGORITHM_MISMATCH', `a ${algorithm.kind} key cannot sign with ${String(name)}`);
  if (algorithm.kind === 'rsa') {
    mod.C_SignInit(session, { mechanism: rsaMechanisms()[name]! }, privateKey);
    return mod.C_Sign(session, Buffer.from(data), Buffer.alloc(algorithm.modulusBits / 8));
  }
  const digest = createHash(info.hash).update(data).digest();
  mod.C_SignInit(session, { mechanism: P11.CKM_ECDSA }, privateKey);
  const raw = mod.C_Sign(session, digest, Buffer.alloc(2 * COORDINATE_BYTES[algorithm.curve]));
  return ecdsaRawToDer(raw, COORDINATE_BYTES[algorithm.curve]);
}

/** PKCS#11 ECDSA gives r||s, each `size` bytes; X.509 wants SEQUENCE { INTEGER r, INTEGER s } (RFC 3279 2.2.3). */
export function ecdsaRawToDer(raw: Buffer, size: number): Buffer {
  if (raw.length !== 2 * size)
    throw new CaError(
      'TOKEN_SIGNATURE_INVALID',
      `the token returned a ${raw.length}-byte ECDSA signature; ${2 * size} expected`,
    );
  const integer = (x: Buffer) => {
    let i = 0;
    while (i < x.length - 1 && x[i] === 0) i++;
    let v = x.subarray(i);
    if (v[0]! & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
    return Buffer.concat([Buffer.from([0x02, v.length]), v]);
  };
  const body = Buffer.concat([integer(raw.subarray(0, size)), integer(raw.subarray(size))]);
  const len = body.length < 0x80 ? Buffer.from([body.length]) : Buffer.from([0x81, body.length]);
  return Buffer.concat([Buffer.from([0x30]), len, body]);
}

/** Destroys the private and public objects of a key; returns how many objects went. */
export function destroyKeyPair(mod: Pkcs11, session: Handle, ref: KeyObjectRef, token: string): number {
  let n = 0;
  for (const cls of [P11.CKO_PRIVATE_KEY, P11.CKO_PUBLIC_KEY]) {
    mod.C_FindObjectsInit(session, [
      { type: P11.CKA_CLASS, value: cls },
      { type: P11.CKA_LABEL, value: ref.label },
      { type: P11.CKA_ID, value: ref.id },
    ]);
    let found: Handle[];
    try {
      found = mod.C_FindObjects(session, 16);
    } finally {
      mod.C_FindObjectsFinal(session);
    }
    for (const h of found) {
      try {
        mod.C_DestroyObject(session, h);
        n++;
      } catch (e) {
        throw tokenError(e, token, `destroying key "${ref.label}"`, 'TOKEN_DESTROY_FAILED');
      }
    }
  }
  return n;
}
