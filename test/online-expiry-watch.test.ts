/**
 * expiry-watch.ts on verified publications (no server): which dates it watches per issuer, and
 * the exact moments its problems change — the margin's first second, nextUpdate itself (still
 * current), the second after — plus what it leaves out (a revoked responder certificate, a
 * configured responder no published CA issued).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { verifyPublication, type VerifiedPublication } from '../src/publish/verify.ts';
import { ExpiryWatch, formatMargin } from '../src/server/expiry-watch.ts';
import { loadResponderKey, type ResponderKey } from '../src/server/responders.ts';
import { OnlineFixture } from './online-fixtures.ts';

const DAY = 86_400_000;
let f: OnlineFixture;
let pub: VerifiedPublication;
let key: ResponderKey;

const verify = (bytes: Buffer) => verifyPublication(bytes, { trustAnchors: [f.rsa.der, f.ec.der], now: new Date() });

before(async () => {
  f = new OnlineFixture();
  pub = verify(await f.publication({ version: 1, ocspValidityMs: 10 * DAY }));
  key = loadResponderKey({
    certificate: readFileSync(f.responder.cert),
    key: readFileSync(f.responder.key),
    passphrase: f.responder.passphrase,
  });
});

describe('ExpiryWatch', () => {
  it('per issuer: the CRL and the sorted response nextUpdates; the live responder and the published one', () => {
    const d = new ExpiryWatch([key], 86_400).of(pub);
    assert.ok(
      d.issuers.every((e) => e.ocspNextUpdates.every((t, i, a) => i === 0 || a[i - 1]! <= t)),
      'ascending',
    );
    assert.deepEqual(
      d.issuers.map((e) => [e.issuer, e.crl?.path, e.ocspNextUpdates.length]),
      [
        ['rsaroot', pub.crls.get('rsaroot')!.path, 6],
        ['ecroot', pub.crls.get('ecroot')!.path, 2],
      ],
    );
    assert.deepEqual(
      d.responders.map((r) => [r.issuer, r.serialHex, r.role, r.notAfter.getTime()]),
      [
        ['rsaroot', '5e5e0000aa01', 'live', f.responder.info.notAfter.getTime()],
        ['rsaroot', '5e5e0000aa01', 'published', f.responder.info.notAfter.getTime()],
      ],
    );
    const w = new ExpiryWatch([key], 86_400);
    assert.equal(w.of(pub), w.of(pub), 'worked out once per publication');
  });

  it('problems turn at nextUpdate - margin, stay "within" at nextUpdate, and are "past" one second later', () => {
    const w = new ExpiryWatch([], 3 * 86_400);
    const next = [...pub.index.values()][0]!.nextUpdate.getTime();
    const at = (ms: number, live = false) =>
      w.problems(pub, new Date(ms), () => live).filter((p) => p.includes('of ecroot'));
    assert.deepEqual(at(next - 3 * DAY - 1000), []);
    assert.match(
      at(next - 3 * DAY)[0]!,
      /^2 pre-signed OCSP response\(s\) of ecroot reach their nextUpdate within the status margin \(3d\)/,
    );
    assert.match(at(next)[0]!, /reach their nextUpdate within/);
    assert.match(at(next + 1000)[0]!, /are past their nextUpdate .*answered tryLater: no live delegated responder$/);
    assert.match(at(next + 1000, true)[0]!, /answered live by the delegated responder$/);
  });

  it('leaves out a revoked published responder and a configured responder no published CA issued', async () => {
    const revoked = verify(
      await f.publication({
        version: 2,
        revoked: { '5e5e0000aa01': { at: new Date(Date.now() - DAY), reason: 'superseded' } },
      }),
    );
    assert.deepEqual(new ExpiryWatch([], 1).of(revoked).responders, []);
    const ecOnly = verify(await f.publication({ version: 3, roots: [f.ec], signer: f.ec }));
    assert.deepEqual(new ExpiryWatch([key], 1).of(ecOnly).responders, []);
  });

  it('formats the margin in whole days, hours or seconds', () => {
    assert.deepEqual([formatMargin(14 * 86_400), formatMargin(36 * 3600), formatMargin(90)], ['14d', '36h', '90s']);
  });
});
