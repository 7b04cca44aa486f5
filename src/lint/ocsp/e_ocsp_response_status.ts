import { defineOcspLint } from './support.ts';

/**
 * RFC 6960 4.2.1: "Response messages SHALL contain a responseStatus and responseBytes if the
 * status is successful" — a response we sign is a successful id-pkix-ocsp-basic response with
 * exactly one SingleResponse (RFC 5019 2.2.1, the pre-signed profile).
 */
export const e_ocsp_response_status = defineOcspLint(
  {
    name: 'e_ocsp_response_status',
    description: 'The response is successful, of type id-pkix-ocsp-basic, with at least one SingleResponse.',
    citation: 'RFC 6960 4.2.1: "the value of responseStatus is one of the following"',
  },
  (r, _ctx, report) => {
    if (r.parsed.status !== 'successful') report.error(`responseStatus is ${r.parsed.status}, not successful`);
    else if (r.parsed.responses.length === 0) report.error('the response carries no SingleResponse');
  },
);
