import { id_ce_cRLNumber } from '@peculiar/asn1-x509';
import { readDerInteger } from '../../pki/integer.ts';
import { defineCrlLint, toBytes } from './support.ts';

/** BR 7.2.2: CRLNumber "less than 2¹⁵⁹" (a positive INTEGER of at most 20 octets, RFC 5280 5.2.3). */
export const CRL_NUMBER_LIMIT = 1n << 159n;

/**
 * RFC 5280 5.2.3: "The CRL number is a non-critical CRL extension"; "Conforming CRL issuers
 * MUST NOT use CRLNumber values longer than 20 octets." BR 7.2.2: CRLNumber "MUST contain an
 * INTEGER greater than or equal to zero (0) and less than 2¹⁵⁹". RFC 5280 5.2: CRL issuers "are
 * REQUIRED to include ... the CRL number". (That it only grows, R-4.2, is checked against the
 * store by ca/, not here.)
 */
export const e_crl_number = defineCrlLint(
  {
    name: 'e_crl_number',
    description: 'cRLNumber is present, non-critical, and an INTEGER in 0 .. 2^159-1.',
    citation:
      'BR 7.2.2: "`CRLNumber` | MUST | N | MUST contain an INTEGER greater than or equal to zero (0) and less than 2¹⁵⁹, and convey a strictly increasing sequence."',
  },
  (crl, _ctx, report) => {
    const ext = (crl.tbsCertList.crlExtensions ?? []).find((e) => e.extnID === id_ce_cRLNumber);
    if (!ext) {
      report.error('cRLNumber is missing');
      return;
    }
    if (ext.critical) report.error('cRLNumber is marked critical; it MUST be non-critical');
    let n: bigint;
    try {
      n = readDerInteger(toBytes(ext.extnValue.buffer));
    } catch (e) {
      report.error(`cRLNumber is not a DER INTEGER: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (n < 0n) report.error(`cRLNumber ${n} is negative`);
    else if (n >= CRL_NUMBER_LIMIT) report.error(`cRLNumber ${n} is not less than 2^159 (longer than 20 octets)`);
  },
);
