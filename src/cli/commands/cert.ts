/** `rootca cert …`: the certificates a CA issued, with their status; cross-certification (BR 7.1.2.2). */
import { type Command, Option } from 'commander';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithmName } from '../../pki/algorithms.ts';
import { derToPem } from '../../pki/pem.ts';
import {
  collect,
  CREDENTIAL_HELP,
  passphrasesFrom,
  print,
  readInput,
  usage,
  wholeNumber,
  withInstallation,
} from '../context.ts';
import { addSubcaFlags, subcaOptionsFrom, type SubcaFlags } from '../subca-options.ts';
import { reportIssued } from './issue.ts';

/** Defines `rootca cert`: its options, subcommands and actions (loaded only when it runs, issue 18). */
export function define(cert: Command): void {
  cert
    .command('list')
    .description('certificates a CA issued, with their status')
    .option('--ca <name>', 'only this CA')
    .option('--pem <serial>', 'print one certificate in PEM')
    .action(async function (this: Command, o: { ca?: string; pem?: string }) {
      const { listIssued } = await import('../../issuance/certificates.ts');
      await withInstallation(this, (inst) => {
        const certs = listIssued(inst, o.ca);
        if (o.pem) {
          const c = certs.find((x) => x.serialHex === o.pem!.toLowerCase());
          if (!c) usage('SELECTION_NOT_FOUND', `no certificate with serial ${o.pem}`);
          return void process.stdout.write(derToPem(c.der, 'CERTIFICATE'));
        }
        print(
          this,
          certs.map(({ der: _d, ...c }) => c),
          certs
            .map(
              (c) =>
                `${c.caName.padEnd(12)} ${c.serialHex} ${c.profile.padEnd(6)} ${(c.revocation ? `revoked ${c.revocation.revokedAt.slice(0, 10)} ${c.revocation.reason}` : 'good').padEnd(36)} ${c.subject}`,
            )
            .join('\n') || '(none)',
        );
      });
    });
  defineCrossCertify(cert);
  defineCrossCsr(cert);
}

/** The parsed options of `rootca cert cross-certify`. */
type CrossOptions = SubcaFlags & {
  ca: string;
  certificate: string;
  unrestricted?: boolean;
  operator: string;
  witness: string;
  out?: string;
  derOut?: string;
  validityDays?: number;
  pathLen?: number;
  signatureAlgorithm?: SignatureAlgorithmName;
  credential: string[];
};

/** `rootca cert cross-certify`: a cross-certificate for another root (BR 7.1.2.2). */
function defineCrossCertify(cert: Command): void {
  const cmd = cert
    .command('cross-certify')
    .description(
      "certify another root's key from its self-signed certificate (BR 7.1.2.2): subject and key copied byte for byte; lint, sign once, lint again",
    )
    .requiredOption('--ca <name>', 'our root that signs the cross-certificate')
    .requiredOption('--certificate <file>', "the other root's self-signed certificate, PEM or DER")
    .requiredOption('--operator <name>', 'the CA Administrator performing it')
    .requiredOption('--witness <name>', 'the Service Operation Manager observing the key operation')
    .option('--unrestricted', "BR 7.1.2.2.4: the other root is ours or an Affiliate's (anyExtendedKeyUsage, anyPolicy)")
    .option('--out <file>', 'write the cross-certificate (PEM); never overwritten')
    .option('--der-out <file>', 'also write it as DER')
    .option('--validity-days <n>', 'life in days (clamped to both roots)', wholeNumber('--validity-days'))
    .option('--path-len <n>', 'basicConstraints pathLenConstraint', wholeNumber('--path-len'))
    .addOption(
      new Option('--signature-algorithm <alg>', 'override the CA default').choices(Object.keys(SIGNATURE_ALGORITHMS)),
    )
    .option('--credential <spec>', CREDENTIAL_HELP, collect, []);
  addSubcaFlags(cmd).action(async function (this: Command, o: CrossOptions) {
    const { crossCertify } = await import('../../lifecycle/cross-certificate.ts');
    const { formatFindings } = await import('../../lint/index.ts');
    const certificate = readInput(o.certificate, 'certificate');
    await withInstallation(this, async (inst) => {
      const r = await crossCertify(inst, {
        caName: o.ca,
        certificate,
        unrestricted: o.unrestricted,
        operator: o.operator,
        witness: o.witness,
        passphrases: passphrasesFrom(o.credential),
        outPem: o.out,
        outDer: o.derOut,
        validityDays: o.validityDays,
        pathLenConstraint: o.pathLen,
        signatureAlgorithm: o.signatureAlgorithm,
        ...subcaOptionsFrom(o),
      });
      reportIssued(this, o, r, formatFindings);
    });
  });
}

/** `rootca cert cross-csr`: our root's key signs a CSR of its own subject and key for another CA to cross-sign. */
function defineCrossCsr(cert: Command): void {
  cert
    .command('cross-csr')
    .description("sign a CSR with a root's own key, its subject byte for byte, for another CA to cross-certify")
    .requiredOption('--ca <name>', 'our root')
    .requiredOption('--out <file>', 'the CSR (PEM); never overwritten')
    .requiredOption('--operator <name>', 'the CA Administrator performing it')
    .requiredOption('--witness <name>', 'the Service Operation Manager observing the key operation')
    .addOption(
      new Option('--signature-algorithm <alg>', 'override the CA default').choices(Object.keys(SIGNATURE_ALGORITHMS)),
    )
    .option('--credential <spec>', CREDENTIAL_HELP, collect, [])
    .action(async function (
      this: Command,
      o: {
        ca: string;
        out: string;
        operator: string;
        witness: string;
        signatureAlgorithm?: SignatureAlgorithmName;
        credential: string[];
      },
    ) {
      const { signCrossCsr } = await import('../../lifecycle/cross-certificate.ts');
      await withInstallation(this, async (inst) => {
        const r = await signCrossCsr(inst, {
          caName: o.ca,
          out: o.out,
          operator: o.operator,
          witness: o.witness,
          passphrases: passphrasesFrom(o.credential),
          signatureAlgorithm: o.signatureAlgorithm,
        });
        print(
          this,
          r,
          [
            ...r.notes.map((n) => `NOTE ${n}`),
            `Signed a cross-certification request of ${o.ca}`,
            `  subject    ${r.subject} (byte for byte from the root certificate)`,
            `  sha256     ${r.sha256}`,
            `  signed     once; key activated by ${r.custodians.join(', ')}; operator ${o.operator}`,
            ...r.outputs.map((f) => `  wrote      ${f}`),
            `  transcript ${r.transcriptFile}`,
          ].join('\n'),
        );
      });
    });
}
