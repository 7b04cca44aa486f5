import {
  checkNameDer,
  RULE_BIDI_CONTROL,
  RULE_CONTROL_CHARACTER,
  RULE_REPLACEMENT_CHARACTER,
  RULE_UTF8,
} from '../pki/name-strings.ts';
import { ALL_PROFILES, defineLint, derOf } from './support.ts';

/** The rules of pki/name-strings.ts this lint reports; string types and upper bounds have their own lints. */
const CONTENT_RULES = new Set([RULE_CONTROL_CHARACTER, RULE_BIDI_CONTROL, RULE_REPLACEMENT_CHARACTER, RULE_UTF8]);

/**
 * RFC 4518 2.4: "The REPLACEMENT CHARACTER (U+FFFD) code point is also prohibited." The same
 * section prohibits the display-changing characters of RFC 3454 Table C.8 (bidi controls), and
 * 2.2 maps control characters to nothing, so a name holding them compares equal to another it
 * does not look like (issue 15.6: strings that would mislead a relying party).
 * Subject and issuer are read from their DER: a UTF8String must be well-formed UTF-8.
 */
export const e_subject_string_content = defineLint(
  {
    name: 'e_subject_string_content',
    description:
      'Subject and issuer strings hold no control characters, bidi controls or U+FFFD, and UTF8Strings are well-formed UTF-8.',
    citation: 'RFC 4518 2.4: "The REPLACEMENT CHARACTER (U+FFFD) code point is also prohibited."',
    appliesTo: ALL_PROFILES,
  },
  (cert, _ctx, report) => {
    const names = [
      ['subject', cert.tbsCertificate.subject],
      ['issuer', cert.tbsCertificate.issuer],
    ] as const;
    for (const [which, name] of names) {
      for (const p of checkNameDer(derOf(name)))
        if (CONTENT_RULES.has(p.rule)) report.error(`${which} ${p.message} (${p.rule})`);
    }
  },
);
