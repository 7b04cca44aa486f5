import { defineLint } from './support.ts';
import { KP_EMAIL_PROTECTION, KP_SERVER_AUTH, ekuOf } from './subca-eku.ts';

/**
 * Mozilla Root Store Policy 5.3: intermediate certificates "MUST NOT include both the
 * id-kp-serverAuth and id-kp-emailProtection KeyPurposeIds in the same certificate".
 */
export const e_subca_eku_server_and_email = defineLint(
  {
    name: 'e_subca_eku_server_and_email',
    description: 'A subordinate CA certificate does not carry serverAuth together with emailProtection.',
    citation:
      'Mozilla Root Store Policy 5.3: intermediate certificates "MUST NOT include both the id-kp-serverAuth and id-kp-emailProtection KeyPurposeIds in the same certificate"',
    appliesTo: ['subca'],
  },
  (cert, ctx, report) => {
    const eku = ekuOf(cert) ?? [];
    if (ctx.crossCertificate === 'unrestricted') return;
    if (eku.includes(KP_SERVER_AUTH) && eku.includes(KP_EMAIL_PROTECTION))
      report.error('extKeyUsage holds both id-kp-serverAuth and id-kp-emailProtection');
  },
);
