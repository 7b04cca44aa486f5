import { defineLint, oidName } from './support.ts';
import { KP_SERVER_AUTH, ekuOf } from './subca-eku.ts';

/** Key purposes BR 7.1.2.10.6 marks "MUST NOT" in a TLS CA certificate. * Cited: BR 7.1.2.10.6: "id-kp-serverAuth | MUST"; "id-kp-emailProtection | MUST NOT"; "id-kp-codeSigning | MUST NOT"; "id-kp-timeStamping | MUST NOT"; "anyExtendedKeyUsage | MUST NOT"
 */
const FORBIDDEN = [
  '1.3.6.1.5.5.7.3.4', // id-kp-emailProtection
  '1.3.6.1.5.5.7.3.3', // id-kp-codeSigning
  '1.3.6.1.5.5.7.3.8', // id-kp-timeStamping
  '1.3.6.1.5.5.7.3.9', // id-kp-OCSPSigning
  '2.5.29.37.0', // anyExtendedKeyUsage
  '1.3.6.1.4.1.11129.2.4.4', // Precertificate Signing Certificate
];

/**
 * BR 7.1.2.10.6 (CA Certificate Extended Key Usage): with id-kp-serverAuth, "id-kp-emailProtection
 * | MUST NOT", "id-kp-codeSigning | MUST NOT", "id-kp-timeStamping | MUST NOT", "anyExtendedKeyUsage
 * | MUST NOT", Precertificate Signing "MUST NOT"; OCSPSigning likewise.
 */
export const e_subca_tls_eku_forbidden = defineLint(
  {
    name: 'e_subca_tls_eku_forbidden',
    description:
      'A TLS subordinate CA (serverAuth) carries no e-mail, code-signing, time-stamping, OCSP or any key purpose.',
    citation:
      'BR 7.1.2.10.6: "id-kp-serverAuth | MUST"; "id-kp-emailProtection | MUST NOT"; "id-kp-codeSigning | MUST NOT"; "id-kp-timeStamping | MUST NOT"; "anyExtendedKeyUsage | MUST NOT"',
    appliesTo: ['subca'],
  },
  (cert, _ctx, report) => {
    const eku = ekuOf(cert) ?? [];
    if (!eku.includes(KP_SERVER_AUTH)) return;
    for (const oid of eku.filter((o) => FORBIDDEN.includes(o)))
      report.error(`a TLS subordinate CA MUST NOT carry ${oidName(oid)} beside id-kp-serverAuth`);
  },
);
