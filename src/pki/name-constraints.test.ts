/** RFC 5280 4.2.1.10 encodings of the name constraints a sub-CA may ask for, byte for byte. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CaError } from '../errors.ts';
import { buildNameConstraints, ipRangeOctets, type NameConstraintRequest } from './name-constraints.ts';
import { resolveSubcaPurpose } from './subca-purposes.ts';

const hex = (x: unknown) => Buffer.from(AsnConvert.serialize(x)).toString('hex');

describe('name constraints', () => {
  it('an IPv4 range is 8 octets (address, mask), an IPv6 range 32', () => {
    assert.equal(Buffer.from(ipRangeOctets('192.0.2.0/24')).toString('hex'), 'c0000200ffffff00');
    assert.equal(
      Buffer.from(ipRangeOctets('2001:db8::/33')).toString('hex'),
      `20010db8${'0'.repeat(24)}ffffffff80${'0'.repeat(22)}`,
    );
    const der = hex(buildNameConstraints({ permittedIpRanges: ['192.0.2.0/24'] }, false));
    assert.match(der, /8708c0000200ffffff00/); // [7] IMPLICIT OCTET STRING, 8 octets
  });

  it('a TLS sub-CA excludes what it does not permit: zero-length dNSName, 0.0.0.0/0, ::/0 (BR 7.1.2.5.2)', () => {
    const der = hex(buildNameConstraints({ permittedDirectoryNames: ['C=JP, O=Example'] }, true));
    assert.match(der, /a1..30028200300a8708/); // excludedSubtrees with an empty dNSName first
    assert.ok(der.includes(`8708${'00'.repeat(8)}`), 'IPv4 0.0.0.0/0 as 8 zero octets');
    assert.ok(der.includes(`8720${'00'.repeat(32)}`), 'IPv6 ::/0 as 32 zero octets');
  });

  it('refuses host bits, a bad prefix, a wildcard, and a TLS constraint without a directoryName', () => {
    const cases: [NameConstraintRequest, boolean][] = [
      [{ permittedIpRanges: ['10.0.0.1/8'] }, false],
      [{ permittedIpRanges: ['10.0.0.0/33'] }, false],
      [{ permittedIpRanges: ['fe80::1::2/64'] }, false],
      [{ permittedDnsNames: ['*.example.jp'] }, false],
      [{ permittedEmails: ['user@'] }, false],
      [{ permittedDnsNames: ['example.jp'] }, true],
    ];
    for (const [r, tls] of cases)
      assert.throws(
        () => buildNameConstraints(r, tls),
        (e: unknown) => e instanceof CaError && e.code === 'NAME_CONSTRAINT_INVALID',
      );
  });
});

describe('sub-CA purposes', () => {
  it('fix the EKU and put the reserved policy first', () => {
    assert.deepEqual(resolveSubcaPurpose('tls-server', ['1.3.6.1.5.5.7.3.2'], ['2.23.140.1.2.1']), {
      purpose: 'tls-server',
      eku: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'],
      reservedPolicies: ['2.23.140.1.2.1'],
    });
    assert.deepEqual(resolveSubcaPurpose('time-stamping').eku, ['1.3.6.1.5.5.7.3.8']);
  });
  it('refuse what Mozilla 5.3 and the BRs forbid', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as CaError).code;
      }
      return 'none';
    };
    assert.equal(
      code(() => resolveSubcaPurpose(undefined)),
      'PURPOSE_REQUIRED',
    );
    assert.equal(
      code(() => resolveSubcaPurpose('other', ['2.5.29.37.0'])),
      'PURPOSE_EKU_REFUSED',
    );
    assert.equal(
      code(() => resolveSubcaPurpose('code-signing', ['1.3.6.1.5.5.7.3.1'], ['2.23.140.1.4.1'])),
      'PURPOSE_EKU_REFUSED',
    );
    assert.equal(
      code(() => resolveSubcaPurpose('code-signing')),
      'PURPOSE_POLICY_REFUSED',
    );
    assert.equal(
      code(() => resolveSubcaPurpose('document-signing', [], ['2.23.140.1.2.2'])),
      'PURPOSE_POLICY_REFUSED',
    );
  });
});
