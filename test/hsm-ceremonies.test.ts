/**
 * Issue 7 on SoftHSMv2: the four shipped root ceremonies (RSA 2048 SHA-1 legacy, RSA 2048
 * SHA-256, RSA 4096 SHA-384, P-384) run with `store: pkcs11`; the keys are made in the token,
 * sensitive and never extractable (pkcs11-tool says so; reading CKA_VALUE fails); sub-CA
 * issuance, CRLs and pre-signed OCSP from a token key verify with OpenSSL; every activation
 * logs in with the PIN rebuilt from two custodians and logs out and closes after one signature.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import type { Installation } from '../src/installation/installation.ts';
import { issueCertificate } from '../src/issuance/issuance.ts';
import { loadCaKey } from '../src/custody/key-records.ts';
import { revokeCertificate } from '../src/status/revocation.ts';
import { issueCrl, presignOcsp } from '../src/status/ceremonies.ts';
import { derToPem } from '../src/pki/pem.ts';
import { findKeyPair } from '../src/keys/pkcs11-keys.ts';
import { finalizePkcs11Modules, findToken, P11, pkcs11Module } from '../src/keys/pkcs11-module.ts';
import { initToken } from '../src/custody/token-setup.ts';
import {
  allPassphrases,
  installationWithPeople,
  openssl,
  passphraseMap,
  run,
  setUpDelegatedKeys,
  storyTests,
  tempDir,
} from './helpers.ts';
import { pkcs11Tool, quorumPin, runPkcs11Ceremony, setUpToken, SOFTHSM, useSoftHsm } from './hsm-fixtures.ts';
import { TLS_SUBCA } from './subca-purpose.ts';

const ROOTS = ['rootca1', 'rootca2', 'rootca3', 'ecc-rootca1'];

describe('root ceremonies, issuance, CRL and OCSP with the pkcs11 store (SoftHSMv2)', () => {
  const dir = tempDir('rootca-hsm-');
  useSoftHsm(dir);
  let inst: Installation;
  const vendorPin = randomBytes(12).toString('hex');
  const vendorSoPin = randomBytes(12).toString('hex');
  const people = { operator: 'alice', witness: 'olivia', passphrases: passphraseMap(allPassphrases()) };

  /** Root keys made in the token, then used: each test builds on the ones before it (storyTests). */
  const story = storyTests();

  before(async () => {
    inst = installationWithPeople({ dir, more: true });
    inst.config.issuance.requireApplicationFor = [];
    // A token the vendor's tools initialised (before this process loads the module), to adopt.
    const made = run('softhsm2-util', [
      '--init-token',
      '--free',
      '--label',
      'vendor-made',
      '--so-pin',
      vendorSoPin,
      '--pin',
      vendorPin,
    ]);
    assert.equal(made.status, 0, made.stderr);
    await setUpToken(inst, 'primary');
  });
  after(() => {
    inst.close();
    finalizePkcs11Modules();
  });

  story('token setup: PINs generated and split 2-of-3, nothing secret stored, audited', () => {
    const t = inst.db.prepare("SELECT * FROM hsm_tokens WHERE label = 'primary'").get() as {
      label: string;
      serial: string;
      threshold: number;
    };
    assert.equal(t.label, 'primary');
    assert.equal(t.threshold, 2);
    const shares = inst.db
      .prepare(
        "SELECT pin_kind, count(*) AS n FROM hsm_pin_shares WHERE token_id = (SELECT id FROM hsm_tokens WHERE label = 'primary') GROUP BY pin_kind ORDER BY pin_kind",
      )
      .all();
    assert.deepEqual(
      shares.map((s) => ({ ...(s as object) })),
      [
        { pin_kind: 'so', n: 3 },
        { pin_kind: 'user', n: 3 },
      ],
    );
    const ev = inst.audit.list().find((e) => e.action === 'token.init')!;
    assert.equal(ev.outcome, 'success');
    assert.doesNotMatch(JSON.stringify(ev.details), /pin":/i);
  });

  story(
    'adopting a vendor-initialised token replaces its temporary PIN with a generated one split 2-of-3',
    async () => {
      await initToken(inst, {
        module: SOFTHSM,
        label: 'vendor-made',
        holders: ['alice', 'bob', 'carol'],
        threshold: 2,
        operator: 'alice',
        witness: 'olivia',
        passphrases: people.passphrases,
        adoptWithPin: Buffer.from(vendorPin),
      });
      const old = pkcs11Tool(['--token-label', 'vendor-made', '--login', '--pin', vendorPin, '--list-objects']);
      assert.notEqual(old.status, 0, 'the temporary PIN no longer logs in');
      assert.match(old.out, /CKR_PIN_INCORRECT/);
      const now = pkcs11Tool([
        '--token-label',
        'vendor-made',
        '--login',
        '--pin',
        await quorumPin(inst, 'vendor-made'),
        '--list-objects',
      ]);
      assert.equal(now.status, 0, now.out);
      const ev = inst.audit
        .list()
        .filter((e) => e.action === 'token.init' && e.target === 'vendor-made')
        .at(-1)!;
      assert.equal((ev.details as { adopted: boolean }).adopted, true);
      assert.equal(
        inst.db
          .prepare(
            "SELECT count(*) FROM hsm_pin_shares WHERE pin_kind = 'so' AND token_id = (SELECT id FROM hsm_tokens WHERE label = 'vendor-made')",
          )
          .pluck()
          .get(),
        0,
      );
    },
  );

  for (const root of ROOTS) {
    story(`${root}: generated in the token, self-signed certificate verifies with openssl`, async () => {
      const r = await runPkcs11Ceremony(inst, dir, root, 'primary');
      await setUpDelegatedKeys(inst, root);
      const pem = join(dir, `${root}.pem`);
      assert.match(openssl(['verify', '-auth_level', '0', '-CAfile', pem, pem]), /: OK/);
      const text = openssl(['x509', '-in', pem, '-noout', '-text']);
      assert.match(text, root === 'ecc-rootca1' ? /NIST CURVE: P-384/ : root === 'rootca3' ? /4096 bit/ : /2048 bit/);
      const record = loadCaKey(inst, r.keyId);
      assert.equal(record.store, 'pkcs11');
      assert.equal(record.locations[0]!.token, 'primary');
      const cert = inst.db
        .prepare('SELECT der FROM certificates WHERE id = (SELECT certificate_id FROM cas WHERE name = ?)')
        .get(root) as { der: Buffer };
      assert.ok(
        cert.der.includes(record.publicKeySpki),
        'the certificate carries the public key read back from the token',
      );
      const ceremony = inst.audit
        .list()
        .filter((e) => e.action === 'ceremony.root-ca' && e.target === root)
        .at(-1)!;
      assert.equal((ceremony.details as { keyStore: string }).keyStore, 'pkcs11');
      assert.deepEqual((ceremony.details as { generationSession: unknown }).generationSession, {
        loggedOut: true,
        closed: true,
      });
      assert.deepEqual((ceremony.details as { protection: unknown }).protection, {
        sensitive: true,
        extractable: false,
        private: true,
        token: true,
      });
      const deactivate = inst.audit
        .list()
        .filter((e) => e.action === 'key.deactivate' && e.target === root)
        .at(-1)!;
      assert.deepEqual(
        { ...(deactivate.details as object) },
        { ...(deactivate.details as object), loggedOut: true, sessionClosed: true, token: 'primary', signatures: 1 },
      );
    });
  }

  story(
    'pkcs11-tool lists every CA private key as sensitive and never extractable; CKA_VALUE cannot be read',
    async () => {
      const pin = await quorumPin(inst, 'primary');
      const list = pkcs11Tool([
        '--token-label',
        'primary',
        '--login',
        '--pin',
        pin,
        '--list-objects',
        '--type',
        'privkey',
      ]);
      assert.equal(list.status, 0, list.out);
      const blocks = list.out.split(/Private Key Object/).slice(1);
      assert.equal(blocks.length, ROOTS.length, list.out);
      for (const b of blocks) {
        assert.match(b, /Access:\s+sensitive, always sensitive, never extractable/, b);
        assert.match(b, /Usage:\s+sign/, b);
      }
      // pkcs11-tool cannot export a private key at all; the token's own refusal is checked below.
      const read = pkcs11Tool([
        '--token-label',
        'primary',
        '--login',
        '--pin',
        pin,
        '--read-object',
        '--type',
        'privkey',
        '--label',
        'rootca2-key',
      ]);
      assert.doesNotMatch(read.out, /BEGIN|PRIVATE KEY/);
      // Through the PKCS#11 API: the token refuses the secret attributes and any wrapping.
      const mod = pkcs11Module(SOFTHSM);
      const slot = findToken({ module: SOFTHSM, label: 'primary' }).slot;
      const s = mod.C_OpenSession(slot, P11.CKF_SERIAL_SESSION);
      mod.C_Login(s, P11.CKU_USER, pin);
      try {
        for (const root of ROOTS) {
          const record = loadCaKey(
            inst,
            inst.db.prepare('SELECT key_id FROM cas WHERE name = ?').pluck().get(root) as string,
          );
          const { privateKey } = findKeyPair(mod, s, record.locations[0]!.object, 'primary');
          const secret = record.algorithm.kind === 'rsa' ? P11.CKA_PRIVATE_EXPONENT : P11.CKA_VALUE;
          assert.throws(() => mod.C_GetAttributeValue(s, privateKey, [{ type: secret }]), /CKR_ATTRIBUTE_SENSITIVE/);
          assert.throws(
            () => mod.C_WrapKey(s, { mechanism: P11.CKM_AES_KEY_WRAP_PAD }, privateKey, privateKey, Buffer.alloc(8192)),
            /CKR_/,
          );
        }
      } finally {
        mod.C_Logout(s);
        mod.C_CloseSession(s);
      }
    },
  );

  story('sub-CA issuance, CRL, pre-signed OCSP and a revocation from token keys verify with openssl', async () => {
    for (const root of ['rootca2', 'ecc-rootca1']) {
      const key = join(dir, `${root}-sub.key`);
      openssl([
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        key,
        '-out',
        join(dir, `${root}-sub.csr`),
        '-subj',
        `/C=JP/O=Example/CN=${root} sub`,
      ]);
      const sub = await issueCertificate(inst, {
        ...people,
        caName: root,
        profile: 'subca',
        ...TLS_SUBCA,
        csr: readFileSync(join(dir, `${root}-sub.csr`)),
      });
      const subPem = join(dir, `${root}-sub.pem`);
      writeFileSync(subPem, sub.certificatePem);
      const rootPem = join(dir, `${root}.pem`);
      assert.match(openssl(['verify', '-CAfile', rootPem, subPem]), /: OK/);

      const crl = await issueCrl(inst, { caName: root, ...people });
      const crlFile = join(dir, `${root}.crl`);
      writeFileSync(crlFile, crl.der);
      assert.match(
        openssl(['crl', '-inform', 'DER', '-in', crlFile, '-CAfile', rootPem, '-noout', '-verify']),
        /verify OK/,
      );

      const ocsp = await presignOcsp(inst, { caName: root, ...people });
      assert.ok(ocsp.responses >= 2);
      const rows = inst.db
        .prepare(
          'SELECT o.der, o.hash_algorithm FROM ocsp_responses o JOIN certificates x ON x.id = o.certificate_id WHERE x.serial_hex = ?',
        )
        .all(sub.serialHex) as { der: Buffer; hash_algorithm: string }[];
      assert.equal(rows.length, 2);
      for (const row of rows) {
        const f = join(dir, `${root}-${row.hash_algorithm}.ocsp`);
        writeFileSync(f, row.der);
        const out = openssl([
          'ocsp',
          '-respin',
          f,
          '-issuer',
          rootPem,
          ...(row.hash_algorithm === 'sha256' ? ['-sha256'] : []),
          '-cert',
          subPem,
          '-CAfile',
          rootPem,
          '-no_nonce',
        ]);
        assert.match(out, /Response verify OK/);
        assert.match(out, /: good/);
      }
    }
    // A revocation on the token key: its CRL makes openssl report the sub-CA revoked.
    const subPem = join(dir, 'rootca2-sub.pem');
    const serial = openssl(['x509', '-in', subPem, '-noout', '-serial']).trim().split('=')[1]!.toLowerCase();
    const r = await revokeCertificate(inst, {
      ...people,
      caName: 'rootca2',
      serial,
      reason: 'superseded',
      approvedBy: 'rita',
    });
    assert.equal(r.ocspResponses, 2);
    const crlPem = join(dir, 'rootca2-revoked.crl.pem');
    writeFileSync(crlPem, derToPem(r.crl!.der, 'X509 CRL'));
    const v = run('openssl', ['verify', '-crl_check', '-CRLfile', crlPem, '-CAfile', join(dir, 'rootca2.pem'), subPem]);
    assert.notEqual(v.status, 0);
    assert.match(v.stdout + v.stderr, /certificate revoked/);

    const activations = inst.audit.list().filter((e) => e.action === 'key.activate' && e.outcome === 'success');
    const deactivations = inst.audit.list().filter((e) => e.action === 'key.deactivate');
    assert.equal(activations.length, deactivations.length, 'every activation ended with a logout');
    // The token keys log out; the roots' delegated keys (issue 15) are in the software store here.
    const tokenKeys = deactivations.filter((e) => (e.details as { store?: string }).store === 'pkcs11');
    assert.ok(
      tokenKeys.length > 0 && tokenKeys.every((e) => (e.details as { loggedOut?: boolean }).loggedOut === true),
    );
  });
});
