import { type GeneralSubtrees, NameConstraints, id_ce_nameConstraints } from '@peculiar/asn1-x509';
import { ALL_PROFILES, decodeExtension, defineLint, findExtension } from './support.ts';

/**
 * RFC 5280 4.2.1.10: "Conforming CAs MUST mark this extension as critical and SHOULD NOT impose
 * name constraints on the x400Address, ediPartyName, or registeredID name forms."
 * Also: the extension "MUST be used only in a CA certificate"; "Conforming CAs MUST NOT issue
 * certificates where name constraints is an empty sequence"; "the minimum MUST be zero, and
 * maximum MUST be absent". On a root it is a warning: path validation (RFC 5280 6.1) does not
 * read constraints from the trust anchor's certificate.
 */
export const e_name_constraints = defineLint(
  {
    name: 'e_name_constraints',
    description:
      'nameConstraints appears only in a subordinate CA, critical, non-empty, with minimum 0 and no maximum.',
    citation:
      'RFC 5280 4.2.1.10: "Conforming CAs MUST mark this extension as critical and SHOULD NOT impose name constraints on the x400Address, ediPartyName, or registeredID name forms."',
    appliesTo: ALL_PROFILES,
  },
  (cert, ctx, report) => {
    const ext = findExtension(cert, id_ce_nameConstraints);
    if (!ext) return;
    if (ctx.profile === 'root')
      report.warning('nameConstraints on a root certificate is not enforced by path validation');
    else if (ctx.profile !== 'subca')
      report.error(`nameConstraints MUST be used only in a CA certificate, not in a '${ctx.profile}' certificate`);
    if (!ext.critical) report.error('nameConstraints is not marked critical');
    const nc = decodeExtension(ext, NameConstraints);
    const check = (label: string, trees: GeneralSubtrees | undefined): void => {
      if (!trees) return;
      if (trees.length === 0) report.error(`${label} is an empty sequence`);
      for (const t of trees) {
        if (t.minimum !== 0) report.error(`${label} subtree has minimum ${t.minimum}; it MUST be zero`);
        if (t.maximum !== undefined) report.error(`${label} subtree has maximum ${t.maximum}; it MUST be absent`);
        if (
          t.base.x400Address !== undefined ||
          t.base.ediPartyName !== undefined ||
          t.base.registeredID !== undefined
        ) {
          report.warning(`${label} constrains an x400Address, ediPartyName or registeredID name form`);
        }
      }
    };
    if (!nc.permittedSubtrees && !nc.excludedSubtrees) report.error('nameConstraints is an empty sequence');
    check('permittedSubtrees', nc.permittedSubtrees);
    check('excludedSubtrees', nc.excludedSubtrees);
  },
);
