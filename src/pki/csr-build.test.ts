import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { acceptCsr } from './csr.ts';
import { assembleCertificationRequest, createCertificationRequestInfo } from './csr-build.ts';
import { createName } from './name.ts';
import { derToPem } from './pem.ts';
import { openssl, tempDir } from '../../test/helpers.ts';

describe('PKCS#10 building (RFC 2986)', () => {
  for (const [kind, alg, hash] of [
    ['ec', 'ecdsa-with-SHA256', 'sha256'],
    ['rsa', 'sha256WithRSAEncryption', 'sha256'],
  ] as const) {
    it(`${kind}: a request openssl req -verify accepts and our intake accepts`, () => {
      const { publicKey, privateKey } =
        kind === 'ec'
          ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
          : generateKeyPairSync('rsa', { modulusLength: 2048 });
      const info = createCertificationRequestInfo({
        subject: createName([
          { type: 'C', value: 'JP', encoding: 'printableString' },
          { type: 'CN', value: 'Demo Sub CA', encoding: 'utf8String' },
        ]),
        subjectPublicKeyInfo: publicKey.export({ format: 'der', type: 'spki' }),
      });
      const der = assembleCertificationRequest(info, alg, sign(hash, info, privateKey));
      const f = join(tempDir(), 'r.csr');
      writeFileSync(f, derToPem(der, 'CERTIFICATE REQUEST'));
      assert.match(openssl(['req', '-in', f, '-noout', '-verify']), /verify OK/i);
      assert.equal(acceptCsr(der).requested.subjectText, 'C=JP, CN=Demo Sub CA');
    });
  }
});
