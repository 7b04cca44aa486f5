/**
 * The one table of OID names for messages and reports (lint findings, `rootca csr inspect`),
 * so a name is spelled the same everywhere. Extension names follow RFC 5280 4.2; key purposes
 * RFC 5280 4.2.1.12; attribute types X.520 and RFC 4514 3.
 */

/** Extensions this CA recognizes (RFC 5280 4.2.1, 4.2.2; RFC 6960 4.2.2.2.1). */
export const EXTENSION_NAMES: Readonly<Record<string, string>> = {
  '2.5.29.14': 'subjectKeyIdentifier',
  '2.5.29.15': 'keyUsage',
  '2.5.29.17': 'subjectAltName',
  '2.5.29.18': 'issuerAltName',
  '2.5.29.19': 'basicConstraints',
  '2.5.29.30': 'nameConstraints',
  '2.5.29.31': 'cRLDistributionPoints',
  '2.5.29.32': 'certificatePolicies',
  '2.5.29.33': 'policyMappings',
  '2.5.29.35': 'authorityKeyIdentifier',
  '2.5.29.36': 'policyConstraints',
  '2.5.29.37': 'extKeyUsage',
  '2.5.29.46': 'freshestCRL',
  '2.5.29.54': 'inhibitAnyPolicy',
  '1.3.6.1.5.5.7.1.1': 'authorityInfoAccess',
  '1.3.6.1.5.5.7.1.11': 'subjectInfoAccess',
  '1.3.6.1.5.5.7.48.1.5': 'id-pkix-ocsp-nocheck',
};

/** Key purposes (RFC 5280 4.2.1.12) by their short names: serverAuth for id-kp-serverAuth. */
export const KEY_PURPOSE_NAMES: Readonly<Record<string, string>> = {
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.3': 'codeSigning',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
};

/** anyExtendedKeyUsage (RFC 5280 4.2.1.12). */
export const ANY_EXTENDED_KEY_USAGE: Readonly<Record<string, string>> = { '2.5.29.37.0': 'anyExtendedKeyUsage' };

/** Attribute types by their RFC 4514 3 short names (plus common X.520 / PKCS#9 / CA/B ones), for one-line names. */
export const ATTRIBUTE_SHORT_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.4': 'SN',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'street',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.12': 'title',
  '2.5.4.15': 'businessCategory',
  '2.5.4.17': 'postalCode',
  '2.5.4.42': 'GN',
  '2.5.4.43': 'initials',
  '2.5.4.46': 'dnQualifier',
  '2.5.4.65': 'pseudonym',
  '2.5.4.97': 'organizationIdentifier',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '1.3.6.1.4.1.311.60.2.1.1': 'jurisdictionL',
  '1.3.6.1.4.1.311.60.2.1.2': 'jurisdictionST',
  '1.3.6.1.4.1.311.60.2.1.3': 'jurisdictionC',
};

/** Every name a message may use: extensions, id-kp- key purposes, access methods, X.520 attribute types. */
const OID_NAMES: Readonly<Record<string, string>> = {
  ...EXTENSION_NAMES,
  ...ANY_EXTENDED_KEY_USAGE,
  ...Object.fromEntries(Object.entries(KEY_PURPOSE_NAMES).map(([oid, name]) => [oid, `id-kp-${name}`])),
  '2.5.29.32.0': 'anyPolicy',
  '1.3.6.1.5.5.7.48.1': 'id-ad-ocsp',
  '1.3.6.1.5.5.7.48.2': 'id-ad-caIssuers',
  '1.3.6.1.4.1.11129.2.4.2': 'signedCertificateTimestampList',
  '2.5.4.3': 'commonName',
  '2.5.4.5': 'serialNumber',
  '2.5.4.6': 'countryName',
  '2.5.4.7': 'localityName',
  '2.5.4.8': 'stateOrProvinceName',
  '2.5.4.10': 'organizationName',
  '2.5.4.11': 'organizationalUnitName',
};

/** `name (oid)` when the OID has a well-known name, else the OID. */
export function oidName(oid: string): string {
  const name = OID_NAMES[oid];
  return name ? `${name} (${oid})` : oid;
}

/** `name (oid)` for an extension this CA recognizes, else the OID. */
export function extensionName(oid: string): string {
  const name = EXTENSION_NAMES[oid];
  return name ? `${name} (${oid})` : oid;
}
