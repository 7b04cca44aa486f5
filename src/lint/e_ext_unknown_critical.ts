import { ALL_PROFILES, defineLint, extensionsOf } from './support.ts';
import { isKnownExtension } from './known_extensions.ts';

/**
 * RFC 5280 4.2: "A certificate-using system MUST reject the certificate if it encounters a
 * critical extension it does not recognize or a critical extension that contains information
 * that it cannot process." A certificate we issue must not carry one.
 */
export const e_ext_unknown_critical = defineLint(
  {
    name: 'e_ext_unknown_critical',
    description: 'Every critical extension is one the lints (and relying parties) recognise.',
    citation:
      'RFC 5280 4.2: "A certificate-using system MUST reject the certificate if it encounters a critical extension it does not recognize or a critical extension that contains information that it cannot process."',
    appliesTo: ALL_PROFILES,
  },
  (cert, _ctx, report) => {
    for (const ext of extensionsOf(cert)) {
      if (ext.critical && !isKnownExtension(ext.extnID))
        report.error(`unrecognised extension ${ext.extnID} is marked critical`);
    }
  },
);
