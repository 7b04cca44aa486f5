import { createHash } from 'node:crypto';
import { defineOcspLint } from './support.ts';

/**
 * RFC 6960 4.2.2.3: "KeyHash ::= OCTET STRING -- SHA-1 hash of responder's public key
 * (excluding the tag and length fields)" — the responderID names the key that signed the
 * response: byKey that hash of the signer's key, or byName the signer certificate's subject.
 */
export const e_ocsp_responder_id = defineOcspLint(
  {
    name: 'e_ocsp_responder_id',
    description: "The responderID (byKey or byName) names the signer certificate's key or subject.",
    citation:
      'RFC 6960 4.2.2.3: "KeyHash ::= OCTET STRING -- SHA-1 hash of responder\'s public key (excluding the tag and length fields)"',
  },
  (r, ctx, report) => {
    const { responderKeyHash, responderNameDer } = r.parsed;
    if (responderKeyHash) {
      const want = createHash('sha1').update(ctx.signer.publicKey).digest();
      if (!responderKeyHash.equals(want))
        report.error(
          `responderID byKey ${responderKeyHash.toString('hex')} is not the SHA-1 of the signer's key (${want.toString('hex')}, ${ctx.signer.subject})`,
        );
    } else if (responderNameDer) {
      if (!responderNameDer.equals(ctx.signer.subjectDer))
        report.error(`responderID byName is not the subject of the signer certificate (${ctx.signer.subject})`);
    } else report.error('the response has no responderID');
  },
);
