import { defineOcspLint } from './support.ts';

/** How far producedAt and thisUpdate may run ahead of the time of signing (clock skew between machines). */
export const OCSP_MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;

/**
 * RFC 6960 4.2.2.1: "thisUpdate: The most recent time at which the status being indicated is
 * known by the responder to have been correct." A status cannot be known correct in the future:
 * thisUpdate and producedAt lie at most a small skew after the time of signing.
 */
export const e_ocsp_update_in_future = defineOcspLint(
  {
    name: 'e_ocsp_update_in_future',
    description: 'producedAt and every thisUpdate lie no more than five minutes after the time of signing.',
    citation:
      'RFC 6960 4.2.2.1: "thisUpdate: The most recent time at which the status being indicated is known by the responder to have been correct."',
  },
  (r, ctx, report) => {
    const limit = ctx.now.getTime() + OCSP_MAX_FUTURE_SKEW_MS;
    const { producedAt } = r.parsed;
    if (producedAt && producedAt.getTime() > limit)
      report.error(`producedAt ${producedAt.toISOString()} is after the time of signing ${ctx.now.toISOString()}`);
    for (const s of r.parsed.responses)
      if (s.thisUpdate.getTime() > limit)
        report.error(
          `thisUpdate ${s.thisUpdate.toISOString()} of ${s.certId.serialHex} is after the time of signing ${ctx.now.toISOString()}`,
        );
  },
);
