import assert from 'node:assert/strict';
import {
  constants,
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  verify as cryptoVerify,
  type KeyObject,
} from 'node:crypto';
import { before, describe, it } from 'node:test';
import { CaError } from '../errors.ts';
import { SIGNATURE_ALGORITHMS, type KeyAlgorithm, type SignatureAlgorithmName } from '../pki/algorithms.ts';
import {
  createCredential,
  unlockCredential,
  type CredentialKind,
  type SealedCredential,
  type UnlockedCredential,
} from './credential.ts';
import { activateSoftKey, generateSoftKey, reconstructPrivateKeyPkcs8 } from './soft-store.ts';
import type { ShareRecipient, SoftKeyRecord } from './ports.ts';

const FAST = { scryptLog2N: 14 };
const enc = (s: string) => Buffer.from(s, 'utf8');
const TBS = enc('tbsCertificate bytes stand-in');

// Mixed credential kinds, so shares are sealed both to X25519 and to P-256 keys.
const PEOPLE: [string, CredentialKind][] = [
  ['alice', 'ed25519'],
  ['bob', 'p256'],
  ['carol', 'ed25519'],
  ['dave', 'p256'], // an operator who is no custodian
];
const sealedCreds = new Map<string, SealedCredential>();
const creds = new Map<string, UnlockedCredential>();
for (const [name, kind] of PEOPLE) {
  const passphrase = enc(`${name} passphrase!`);
  const sealed = createCredential(name, kind, passphrase, FAST);
  sealedCreds.set(name, sealed);
  creds.set(name, unlockCredential(name, sealed, passphrase));
}
const who = (...names: string[]) => names.map((n) => creds.get(n)!);
const recipients = (...names: string[]): ShareRecipient[] =>
  names.map((name) => ({ name, encryptionPublicKey: sealedCreds.get(name)!.encryptionPublicKey }));
const CUSTODIANS = recipients('alice', 'bob', 'carol');

function code(c: string, message?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof CaError, `expected CaError ${c}, got ${String(e)}`);
    assert.equal(e.code, c, e.message);
    if (message) assert.match(e.message, message);
    return true;
  };
}

function copy(r: SoftKeyRecord): SoftKeyRecord {
  return {
    ...r,
    publicKeySpki: Buffer.from(r.publicKeySpki),
    wrappedPrivateKey: Buffer.from(r.wrappedPrivateKey),
    shares: r.shares.map((s) => ({ ...s, sealed: Buffer.from(s.sealed) })),
  };
}

function flipLast(b: Buffer): Buffer {
  const c = Buffer.from(b);
  c[c.length - 1] = c[c.length - 1]! ^ 0x01;
  return c;
}

function verifies(spki: Uint8Array, name: SignatureAlgorithmName, data: Uint8Array, signature: Uint8Array): boolean {
  const info = SIGNATURE_ALGORITHMS[name];
  const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
  return info.keyKind === 'rsa'
    ? cryptoVerify(info.hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature)
    : cryptoVerify(info.hash, data, { key, dsaEncoding: 'der' }, signature);
}

/** The raw private value (RSA d, EC scalar) that must never be found at rest. */
function privateValue(pkcs8: Buffer): Buffer {
  return Buffer.from(
    createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' }).d!,
    'base64url',
  );
}

const ALGORITHMS: { algorithm: KeyAlgorithm; sig: SignatureAlgorithmName; wrong: SignatureAlgorithmName }[] = [
  { algorithm: { kind: 'rsa', modulusBits: 2048 }, sig: 'sha256WithRSAEncryption', wrong: 'ecdsa-with-SHA256' },
  { algorithm: { kind: 'ecdsa', curve: 'P-256' }, sig: 'ecdsa-with-SHA256', wrong: 'sha256WithRSAEncryption' },
  { algorithm: { kind: 'ecdsa', curve: 'P-384' }, sig: 'ecdsa-with-SHA384', wrong: 'sha384WithRSAEncryption' },
];

for (const { algorithm, sig, wrong } of ALGORITHMS) {
  const label = algorithm.kind === 'rsa' ? `RSA ${algorithm.modulusBits}` : `ECDSA ${algorithm.curve}`;
  describe(`R-6.3 M-of-N activation, ${label}, 2 of 3`, () => {
    let record: SoftKeyRecord;
    before(async () => {
      record = await generateSoftKey({ keyId: `root-${label}`, algorithm, threshold: 2, custodians: CUSTODIANS });
    });

    it('generates the requested key type with one sealed share per custodian', () => {
      const pub = createPublicKey({ key: record.publicKeySpki, format: 'der', type: 'spki' });
      if (algorithm.kind === 'rsa') {
        assert.equal(pub.asymmetricKeyType, 'rsa');
        assert.equal(pub.asymmetricKeyDetails?.modulusLength, algorithm.modulusBits);
        assert.equal(pub.asymmetricKeyDetails?.publicExponent, 65537n);
      } else {
        assert.equal(pub.asymmetricKeyType, 'ec');
        assert.equal(pub.asymmetricKeyDetails?.namedCurve, algorithm.curve === 'P-256' ? 'prime256v1' : 'secp384r1');
      }
      assert.equal(record.threshold, 2);
      assert.deepEqual(
        record.shares.map((s) => [s.custodian, s.index]),
        [
          ['alice', 1],
          ['bob', 2],
          ['carol', 3],
        ],
      );
    });

    const quorums = [
      ['alice', 'bob'],
      ['bob', 'carol'],
      ['carol', 'alice'],
      ['alice', 'bob', 'carol'],
    ];
    for (const q of quorums) {
      it(`activates with ${q.join(' + ')} and signs once; the signature verifies against publicKeySpki`, async () => {
        const signer = await activateSoftKey(record, who(...q));
        assert.equal(signer.active, true);
        assert.deepEqual(signer.algorithm, algorithm);
        assert.deepEqual(Buffer.from(signer.publicKeySpki), record.publicKeySpki);
        const signature = await signer.sign(TBS, sig);
        assert.ok(verifies(record.publicKeySpki, sig, TBS, signature));
        assert.equal(verifies(record.publicKeySpki, sig, enc('other bytes'), signature), false);
        assert.equal(signer.active, false, 'R-6.4 deactivated after the use');
        await assert.rejects(signer.sign(TBS, sig), code('KEY_NOT_ACTIVE'));
      });
    }

    it(`refuses ${wrong} (ALGORITHM_MISMATCH), and that call spends the activation too`, async () => {
      const signer = await activateSoftKey(record, who('alice', 'bob'));
      await assert.rejects(signer.sign(TBS, wrong), code('ALGORITHM_MISMATCH'));
      assert.equal(signer.active, false);
      await assert.rejects(signer.sign(TBS, sig), code('KEY_NOT_ACTIVE'));
    });

    it('deactivate() drops an unused activation', async () => {
      const signer = await activateSoftKey(record, who('alice', 'carol'));
      signer.deactivate();
      signer.deactivate();
      assert.equal(signer.active, false);
      await assert.rejects(signer.sign(TBS, sig), code('KEY_NOT_ACTIVE'));
    });

    it('two concurrent sign() calls: exactly one succeeds', async () => {
      const signer = await activateSoftKey(record, who('alice', 'bob'));
      const results = await Promise.allSettled([signer.sign(TBS, sig), signer.sign(TBS, sig)]);
      assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    });

    it('reconstructPrivateKeyPkcs8 (same quorum) returns the key that signs', async () => {
      await assert.rejects(reconstructPrivateKeyPkcs8(record, who('bob')), code('QUORUM_NOT_MET'));
      const pkcs8 = await reconstructPrivateKeyPkcs8(record, who('bob', 'carol'));
      const key: KeyObject = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
      assert.deepEqual(createPublicKey(key).export({ type: 'spki', format: 'der' }), record.publicKeySpki);
      const info = SIGNATURE_ALGORITHMS[sig];
      const mine =
        info.keyKind === 'rsa'
          ? cryptoSign(info.hash, TBS, { key, padding: constants.RSA_PKCS1_PADDING })
          : cryptoSign(info.hash, TBS, { key, dsaEncoding: 'der' });
      assert.ok(verifies(record.publicKeySpki, sig, TBS, mine));
      if (info.keyKind === 'rsa') {
        // PKCS#1 v1.5 is deterministic: the activated key gives the same bytes.
        const signer = await activateSoftKey(record, who('alice', 'bob'));
        assert.deepEqual(Buffer.from(await signer.sign(TBS, sig)), mine);
      }
    });

    it('R-6.1 the record at rest holds no plaintext private key', async () => {
      const pkcs8 = await reconstructPrivateKeyPkcs8(record, who('alice', 'bob'));
      const d = privateValue(pkcs8);
      const atRest = [
        Buffer.from(JSON.stringify(record)),
        record.wrappedPrivateKey,
        ...record.shares.map((s) => s.sealed),
        Buffer.concat([record.publicKeySpki, record.wrappedPrivateKey, ...record.shares.map((s) => s.sealed)]),
      ];
      for (const bytes of atRest) {
        assert.equal(bytes.includes(pkcs8), false, 'PKCS#8');
        assert.equal(bytes.includes(d), false, 'private value');
        assert.equal(bytes.includes(d.subarray(0, 16)), false, 'first 16 bytes of the private value');
        assert.equal(bytes.includes(pkcs8.toString('base64')), false, 'PKCS#8 in base64');
      }
    });
  });
}

describe('R-6.3 key generation refuses a weak or inconsistent custody plan', () => {
  const P256: KeyAlgorithm = { kind: 'ecdsa', curve: 'P-256' };
  const cases: {
    name: string;
    threshold: number;
    custodians: ShareRecipient[];
    code: string;
    message?: RegExp;
    algorithm?: KeyAlgorithm;
  }[] = [
    {
      name: 'threshold 1 (CPS 6.4.1)',
      threshold: 1,
      custodians: CUSTODIANS,
      code: 'THRESHOLD_TOO_LOW',
      message: /CPS 6\.4\.1.*At least two digital keys/,
    },
    { name: 'threshold 0', threshold: 0, custodians: CUSTODIANS, code: 'THRESHOLD_TOO_LOW' },
    { name: 'threshold 1.5', threshold: 1.5, custodians: CUSTODIANS, code: 'THRESHOLD_TOO_LOW' },
    { name: 'a single custodian', threshold: 1, custodians: recipients('alice'), code: 'THRESHOLD_TOO_LOW' },
    {
      name: 'threshold 4 of 3',
      threshold: 4,
      custodians: CUSTODIANS,
      code: 'THRESHOLD_EXCEEDS_CUSTODIANS',
      message: /threshold 4 exceeds the 3 custodian/,
    },
    {
      name: 'the same custodian twice',
      threshold: 2,
      custodians: recipients('alice', 'alice', 'bob'),
      code: 'DUPLICATE_CUSTODIAN',
      message: /alice/,
    },
    {
      name: 'RSA 1024',
      threshold: 2,
      custodians: CUSTODIANS,
      code: 'UNSUPPORTED_ALGORITHM',
      algorithm: { kind: 'rsa', modulusBits: 1024 as 2048 },
    },
    {
      name: 'P-521',
      threshold: 2,
      custodians: CUSTODIANS,
      code: 'UNSUPPORTED_ALGORITHM',
      algorithm: { kind: 'ecdsa', curve: 'P-521' as 'P-256' },
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.name} with ${c.code}`, async () => {
      await assert.rejects(
        generateSoftKey({
          keyId: 'k',
          algorithm: c.algorithm ?? P256,
          threshold: c.threshold,
          custodians: c.custodians,
        }),
        code(c.code, c.message),
      );
    });
  }

  it('accepts 3 of 3 and 2 of 2', async () => {
    for (const [threshold, custodians] of [
      [3, CUSTODIANS],
      [2, recipients('alice', 'bob')],
    ] as const) {
      const r = await generateSoftKey({ keyId: 'k', algorithm: P256, threshold, custodians: [...custodians] });
      await assert.rejects(
        activateSoftKey(r, who(...custodians.slice(0, threshold - 1).map((c) => c.name))),
        code('QUORUM_NOT_MET'),
      );
      const signer = await activateSoftKey(r, who(...custodians.map((c) => c.name)));
      assert.ok(verifies(r.publicKeySpki, 'ecdsa-with-SHA256', TBS, await signer.sign(TBS, 'ecdsa-with-SHA256')));
    }
  });
});

describe('R-6.3/R-6.4 activation refusals name the people involved', () => {
  let a: SoftKeyRecord; // two keys with the same custodians, for swapped rows
  let b: SoftKeyRecord;
  before(async () => {
    a = await generateSoftKey({
      keyId: 'root-a',
      algorithm: { kind: 'ecdsa', curve: 'P-256' },
      threshold: 2,
      custodians: CUSTODIANS,
    });
    b = await generateSoftKey({
      keyId: 'root-b',
      algorithm: { kind: 'rsa', modulusBits: 2048 },
      threshold: 2,
      custodians: CUSTODIANS,
    });
  });

  it('QUORUM_NOT_MET: one custodian present', async () => {
    await assert.rejects(
      activateSoftKey(a, who('alice')),
      code('QUORUM_NOT_MET', /needs 2 of 3 custodians, 1 present \(alice\)/),
    );
  });

  it('QUORUM_NOT_MET: nobody present', async () => {
    await assert.rejects(activateSoftKey(a, []), code('QUORUM_NOT_MET', /needs 2 of 3 custodians, 0 present \(none\)/));
  });

  it('DUPLICATE_CUSTODIAN: the same person twice counts once', async () => {
    await assert.rejects(activateSoftKey(a, who('alice', 'alice')), code('DUPLICATE_CUSTODIAN', /alice.*counts once/));
  });

  it('NOT_A_CUSTODIAN: a present operator holds no share', async () => {
    await assert.rejects(activateSoftKey(a, who('alice', 'dave')), code('NOT_A_CUSTODIAN', /dave.*alice, bob, carol/));
  });

  it('SHARE_WRONG_KEY: a share row swapped in from another key', async () => {
    const swapped = copy(a);
    swapped.shares[1]!.sealed = b.shares[1]!.sealed; // bob's share of root-b
    await assert.rejects(activateSoftKey(swapped, who('alice', 'bob')), code('SHARE_WRONG_KEY', /bob.*root-b/));
    // Without bob, the quorum of the others is unaffected.
    const signer = await activateSoftKey(swapped, who('alice', 'carol'));
    signer.deactivate();
  });

  it('SHARE_WRONG_KEY: a row whose index was edited', async () => {
    const edited = copy(a);
    edited.shares[0]!.index = 3;
    await assert.rejects(activateSoftKey(edited, who('alice', 'bob')), code('SHARE_WRONG_KEY', /alice/));
  });

  it('SHARE_WRONG_KEY: a threshold raised in the record does not match the shares', async () => {
    const edited = copy(a);
    edited.threshold = 3;
    await assert.rejects(activateSoftKey(edited, who('alice', 'bob', 'carol')), code('SHARE_WRONG_KEY'));
  });

  it('THRESHOLD_TOO_LOW: a threshold lowered to 1 in the record is refused at activation', async () => {
    const edited = copy(a);
    edited.threshold = 1;
    await assert.rejects(activateSoftKey(edited, who('alice')), code('THRESHOLD_TOO_LOW'));
  });

  it('SHARE_INVALID: an altered share, caught even when the others would make the quorum', async () => {
    const altered = copy(a);
    altered.shares[1]!.sealed = flipLast(altered.shares[1]!.sealed);
    await assert.rejects(activateSoftKey(altered, who('alice', 'bob', 'carol')), code('SHARE_INVALID', /bob/));
    (await activateSoftKey(altered, who('alice', 'carol'))).deactivate();
  });

  it('SHARE_INVALID: a custodian presents a re-issued credential', async () => {
    const passphrase = enc('bob new passphrase');
    const reissued = unlockCredential('bob', createCredential('bob', 'p256', passphrase, FAST), passphrase);
    await assert.rejects(activateSoftKey(a, [creds.get('alice')!, reissued]), code('SHARE_INVALID', /bob/));
  });

  it('KEY_RECONSTRUCTION_FAILED: the wrapped key was altered', async () => {
    const altered = copy(a);
    altered.wrappedPrivateKey = flipLast(altered.wrappedPrivateKey);
    await assert.rejects(
      activateSoftKey(altered, who('alice', 'bob')),
      code('KEY_RECONSTRUCTION_FAILED', /alice, bob/),
    );
    await assert.rejects(reconstructPrivateKeyPkcs8(altered, who('alice', 'bob')), code('KEY_RECONSTRUCTION_FAILED'));
  });

  it('KEY_RECONSTRUCTION_FAILED: the wrapped key of another key pasted in', async () => {
    const pasted = copy(a);
    pasted.wrappedPrivateKey = b.wrappedPrivateKey;
    await assert.rejects(activateSoftKey(pasted, who('alice', 'bob')), code('KEY_RECONSTRUCTION_FAILED'));
  });

  it('SHARE_WRONG_KEY: the public key in the record was replaced', async () => {
    const replaced = copy(a);
    replaced.publicKeySpki = b.publicKeySpki;
    replaced.algorithm = b.algorithm;
    // The share headers carry the SPKI hash (as the wrapped key's AAD does), so this is caught before combining.
    await assert.rejects(activateSoftKey(replaced, who('alice', 'bob')), code('SHARE_WRONG_KEY'));
  });

  it('CREDENTIAL_LOCKED: a custodian who already locked their credential', async () => {
    const passphrase = enc('carol passphrase!');
    const carol = unlockCredential('carol', sealedCreds.get('carol')!, passphrase);
    carol.lock();
    await assert.rejects(activateSoftKey(a, [creds.get('alice')!, carol]), code('CREDENTIAL_LOCKED'));
  });
});
