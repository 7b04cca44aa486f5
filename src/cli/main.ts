/**
 * The `rootca` command (CONVENTIONS 9): each command parses, calls one use case, prints.
 * Exit codes: 0 ok, 1 refused or failed, 2 usage. `--json` prints machine-readable results.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { getCa, listCas } from '../ca/cas.ts';
import { defaultHome, initInstallation, openInstallation, type Installation } from '../ca/installation.ts';
import { addOperator, listOperators } from '../ca/operators.ts';
import { ROLES } from '../ca/roles.ts';
import { loadRootCeremony, runRootCeremony } from '../ca/root-ceremony.ts';
import { CaError, UsageError } from '../errors.ts';
import { derToPem } from '../pki/pem.ts';
import { issueCertificate } from '../ca/issuance.ts';
import { formatFindings } from '../lint/index.ts';
import { SIGNATURE_ALGORITHMS, type SignatureAlgorithmName } from '../pki/algorithms.ts';
import { formatCsrInspection, inspectCsr } from '../pki/csr.ts';
import { EXT_KEY_USAGES, type IssuedProfileName } from '../pki/profiles.ts';
import { cliPassphraseSource, hiddenPrompt, parseCredentialOptions, envVariableFor } from './passphrases.ts';

interface GlobalOptions { home?: string; json?: boolean }

const collect = (v: string, acc: string[]) => [...acc, v];

export function buildProgram(): Command {
  const program = new Command('rootca')
    .description('Offline root CA: key ceremonies with M-of-N custody, issuance, status, audit')
    .option('--home <dir>', 'installation home (default: $ROOTCA_HOME or ./rootca-data)')
    .option('--json', 'print results as JSON')
    .showHelpAfterError()
    .exitOverride();

  const g = (cmd: Command): GlobalOptions => cmd.optsWithGlobals() as GlobalOptions;
  const home = (cmd: Command) => g(cmd).home ?? defaultHome();
  const withInstallation = async <T>(cmd: Command, fn: (inst: Installation) => Promise<T> | T): Promise<T> => {
    const inst = openInstallation(home(cmd));
    try {
      return await fn(inst);
    } finally {
      inst.close();
    }
  };
  const print = (cmd: Command, json: unknown, text: string) => {
    process.stdout.write(g(cmd).json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
  };

  program
    .command('init')
    .description('create a new installation (SQLite store + config file)')
    .option('--name <name>', 'installation name', 'rootca')
    .option('--base-url <url>', 'repository base URL named in issued certificates (http://)')
    .action(function (this: Command, o: { name: string; baseUrl?: string }) {
      const inst = initInstallation(home(this), { name: o.name, baseUrl: o.baseUrl });
      inst.close();
      print(this, { home: inst.home, name: o.name }, `Created installation "${o.name}" in ${inst.home}`);
    });

  const operator = program.command('operator').description('people in trusted roles (CPS 5.2)');
  operator
    .command('add <name>')
    .description('register an operator with roles and a new credential sealed under their passphrase')
    .addOption(new Option('--role <role>', `a role (repeatable): ${Object.keys(ROLES).join(', ')}`).argParser(collect).default([]))
    .option('--display-name <text>', 'full name')
    .addOption(new Option('--credential-kind <kind>', 'credential key type').choices(['ed25519', 'p256']).default('ed25519'))
    .option('--credential <spec>', 'NAME=@FILE or NAME=env:VAR: where the new passphrase comes from', collect, [])
    .action(async function (this: Command, name: string, o: { role: string[]; displayName?: string; credentialKind: 'ed25519' | 'p256'; credential: string[] }) {
      const passphrase = await newPassphrase(name, o.credential);
      await withInstallation(this, (inst) => {
        const op = addOperator(inst, { name, displayName: o.displayName, roles: o.role, kind: o.credentialKind, passphrase });
        passphrase.fill(0);
        print(this, { name: op.name, roles: op.roles, credentialKind: op.credential.kind }, `Operator ${op.name} added with roles ${op.roles.join(', ')} (${op.credential.kind} credential)`);
      });
    });
  operator
    .command('list')
    .description('list operators and their roles')
    .action(async function (this: Command) {
      await withInstallation(this, (inst) => {
        const ops = listOperators(inst);
        print(this, ops.map((o) => ({ name: o.name, displayName: o.displayName, status: o.status, roles: o.roles, credentialKind: o.credential.kind })),
          ops.map((o) => `${o.name.padEnd(16)} ${o.status.padEnd(8)} ${o.roles.join(', ')}`).join('\n') || '(no operators)');
      });
    });

  const ceremony = program.command('ceremony').description('key ceremonies');
  ceremony
    .command('run <file>')
    .description('run a root key ceremony file (YAML): generate the key, split activation M-of-N, self-sign')
    .option('--out-dir <dir>', 'folder that relative output paths resolve against', '.')
    .option('--credential <spec>', 'NAME=@FILE or NAME=env:VAR for a participant (repeatable)', collect, [])
    .action(async function (this: Command, file: string, o: { outDir: string; credential: string[] }) {
      const credentials = parseCredentialOptions(o.credential);
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch (e) {
        throw new CaError('CEREMONY_FILE_UNREADABLE', `cannot read ceremony file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      const passphrases = cliPassphraseSource({ credentials, interactive: true });
      await withInstallation(this, async (inst) => {
        const loaded = loadRootCeremony(inst, bytes, file);
        const r = await runRootCeremony(inst, { ceremony: loaded, baseDir: o.outDir, passphrases });
        print(this, { ca: r.caName, keyId: r.keyId, serial: r.serialHex, subject: r.subject, notBefore: r.notBefore, notAfter: r.notAfter, outputs: r.outputs, custodians: r.custodians, witness: r.witness, warnings: r.warnings },
          [
            ...r.warnings.map((w) => `WARNING ${w}`),
            `Root CA ${r.caName} created (ceremony #${r.ceremonyId})`,
            `  subject   ${r.subject}`,
            `  serial    ${r.serialHex}`,
            `  validity  ${r.notBefore.toISOString()} .. ${r.notAfter.toISOString()}`,
            `  key       ${r.keyId} (activated once by ${r.custodians.join(', ')}; witness ${r.witness}; deactivated)`,
            ...r.outputs.map((f) => `  wrote     ${f}`),
          ].join('\n'));
      });
    });

  const csr = program.command('csr').description('certificate signing requests (PKCS#10)');
  csr.command('inspect <file>').description('show a CSR (PEM or DER) and every reason it would be refused; exit 1 if any').action(async function (this: Command, file: string) {
    const bytes = readInput(file, 'CSR');
    const i = inspectCsr(bytes);
    print(this, { subject: i.requested.subjectText, publicKey: i.publicKey.algorithm, signatureValid: i.signatureValid, problems: i.problems }, formatCsrInspection(i));
    if (i.problems.length) process.exitCode = 1;
  });

  program
    .command('issue')
    .description('issue a subordinate CA, TSA/TA or OCSP responder certificate from a CSR (lint, sign once, lint again)')
    .requiredOption('--ca <name>', 'issuing CA')
    .addOption(new Option('--profile <profile>', 'certificate profile').choices(['subca', 'tsa', 'ta', 'ocsp']).makeOptionMandatory())
    .requiredOption('--csr <file>', 'PKCS#10 request, PEM or DER')
    .requiredOption('--witness <name>', 'Service Operation Manager observing the key operation')
    .option('--out <file>', 'write the certificate (PEM); never overwritten')
    .option('--der-out <file>', 'also write it as DER')
    .option('--requester <text>', 'applicant organisation / contact, recorded with the certificate')
    .option('--validity-days <n>', 'certificate life in days (profile default and maximum apply; clamped to the CA)', (v) => parseWholeNumber(v, '--validity-days'))
    .option('--path-len <n>', 'subca: basicConstraints pathLenConstraint', (v) => parseWholeNumber(v, '--path-len'))
    .option('--digital-signature', 'subca: add digitalSignature to keyUsage')
    .option('--non-repudiation', 'tsa/ta: add nonRepudiation to keyUsage')
    .option('--eku <purpose>', `subca: extended key usage (repeatable): ${Object.keys(EXT_KEY_USAGES).join(', ')} or a dotted OID`, collect, [])
    .option('--permit-dns <name>', 'subca: name constraints, permitted DNS subtree (repeatable)', collect, [])
    .option('--exclude-dns <name>', 'subca: name constraints, excluded DNS subtree (repeatable)', collect, [])
    .option('--policy <oid>', 'extra Certificate Policy OID (registered for the CA, or 2.23.140.1.*) (repeatable)', collect, [])
    .addOption(new Option('--signature-algorithm <alg>', 'override the CA default').choices(Object.keys(SIGNATURE_ALGORITHMS)))
    .option('--allow-legacy-sha1', 'R-1.3: allow SHA-1 issuance (audited)')
    .option('--credential <spec>', 'NAME=@FILE or NAME=env:VAR for a participant (repeatable)', collect, [])
    .action(async function (this: Command, o: {
      ca: string; profile: IssuedProfileName; csr: string; witness: string; out?: string; derOut?: string; requester?: string; validityDays?: number; pathLen?: number;
      digitalSignature?: boolean; nonRepudiation?: boolean; eku: string[]; permitDns: string[]; excludeDns: string[]; policy: string[]; signatureAlgorithm?: SignatureAlgorithmName; allowLegacySha1?: boolean; credential: string[];
    }) {
      const credentials = parseCredentialOptions(o.credential);
      const csrBytes = readInput(o.csr, 'CSR');
      const eku = o.eku.map((e) => EXT_KEY_USAGES[e] ?? (/^[0-2](\.\d+)+$/.test(e) ? e : usage(`--eku ${e}: expected one of ${Object.keys(EXT_KEY_USAGES).join(', ')} or a dotted OID`)));
      const passphrases = cliPassphraseSource({ credentials, interactive: true });
      await withInstallation(this, async (inst) => {
        const r = await issueCertificate(inst, {
          caName: o.ca, profile: o.profile, csr: csrBytes, witness: o.witness, passphrases, outPem: o.out, outDer: o.derOut, requester: o.requester,
          validityDays: o.validityDays, pathLenConstraint: o.pathLen, digitalSignature: o.digitalSignature, nonRepudiation: o.nonRepudiation,
          extKeyUsage: eku, permittedDnsNames: o.permitDns, excludedDnsNames: o.excludeDns, extraPolicyOids: o.policy, signatureAlgorithm: o.signatureAlgorithm, allowLegacySha1: o.allowLegacySha1,
        });
        print(this, { serial: r.serialHex, subject: r.subject, notBefore: r.notBefore, notAfter: r.notAfter, clamped: r.clamped, notes: r.notes, lintWarnings: r.lintWarnings, outputs: r.outputs, custodians: r.custodians, witness: r.witness, certificatePem: r.certificatePem },
          [
            ...r.notes.map((n) => `NOTE ${n}`),
            `Issued ${o.profile} certificate #${r.certificateId} from ${o.ca}`,
            `  subject   ${r.subject}`,
            `  serial    ${r.serialHex}`,
            `  validity  ${r.notBefore.toISOString()} .. ${r.notAfter.toISOString()}${r.clamped ? ' (clamped to the CA)' : ''}`,
            `  signed    once, by the ${o.ca} key activated by ${r.custodians.join(', ')}; witness ${r.witness}`,
            ...(r.lintWarnings.length ? [`  lint warnings:\n${formatFindings(r.lintWarnings).replace(/^/gm, '    ')}`] : []),
            ...r.outputs.map((f) => `  wrote     ${f}`),
            ...(r.outputs.length ? [] : [r.certificatePem.trimEnd()]),
          ].join('\n'));
      });
    });

  const ca = program.command('ca').description('the CAs of this installation');
  ca.command('list').description('list CAs').action(async function (this: Command) {
    await withInstallation(this, (inst) => {
      const cas = listCas(inst);
      print(this, cas.map(({ certificateDer: _d, ...c }) => c),
        cas.map((c) => `${c.name.padEnd(14)} ${c.status.padEnd(8)} ${c.signatureAlgorithm.padEnd(24)} ${c.notAfter.slice(0, 10)}  ${c.subject}`).join('\n') || '(no CAs)');
    });
  });
  ca.command('show <name>').description('show a CA; --pem prints its certificate').option('--pem', 'print the certificate in PEM').action(async function (this: Command, name: string, o: { pem?: boolean }) {
    await withInstallation(this, (inst) => {
      const c = getCa(inst, name);
      if (o.pem) return void process.stdout.write(derToPem(c.certificateDer, 'CERTIFICATE'));
      const { certificateDer, ...rest } = c;
      print(this, { ...rest, certificatePem: derToPem(certificateDer, 'CERTIFICATE') }, [
        `${c.name} (${c.status})`, `  subject    ${c.subject}`, `  serial     ${c.serialHex}`, `  validity   ${c.notBefore} .. ${c.notAfter}`,
        `  algorithm  ${c.signatureAlgorithm}${c.legacySha1 ? ' (LEGACY, R-1.3)' : ''}`, `  sha256     ${c.certificateSha256}`,
        `  key        ${c.keyId}: ${c.threshold} of ${c.custodians.length} custodians (${c.custodians.join(', ')})`,
      ].join('\n'));
    });
  });

  const audit = program.command('audit').description('the audit log (CPS 5.4)');
  audit.command('verify').description('recompute the hash chain; report the first bad position').action(async function (this: Command) {
    await withInstallation(this, (inst) => {
      const v = inst.audit.verify();
      print(this, v, v.ok ? `audit log OK: ${v.events} events, head ${v.headHash}` : `audit log BROKEN at event ${v.firstBad!.position}: ${v.firstBad!.problem}`);
      if (!v.ok) process.exitCode = 1;
    });
  });
  audit.command('list').description('print events').option('--from <n>', 'first event', '1').action(async function (this: Command, o: { from: string }) {
    await withInstallation(this, (inst) => {
      const events = inst.audit.list(Number(o.from));
      print(this, events, events.map((e) => `${String(e.seq).padStart(5)} ${e.at} ${e.outcome.padEnd(8)} ${e.action.padEnd(24)} ${e.target.padEnd(14)} ${e.actor}`).join('\n'));
    });
  });

  return program;
}

function readInput(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new UsageError(`cannot read ${what} file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function parseWholeNumber(v: string, flag: string): number {
  if (!/^\d+$/.test(v)) throw new UsageError(`${flag} must be a whole number, got "${v}"`);
  return Number(v);
}

function usage(message: string): never {
  throw new UsageError(message);
}

async function newPassphrase(name: string, credential: string[]): Promise<Buffer> {
  const specs = parseCredentialOptions(credential);
  const source = cliPassphraseSource({ credentials: specs, interactive: false });
  const given = await source.get(name, '');
  if (given) return given;
  if (!process.stdin.isTTY) throw new UsageError(`no passphrase for ${name}: give --credential ${name}=@FILE or set ${envVariableFor(name)} (stdin is not a terminal)`);
  const a = await hiddenPrompt(`new passphrase for ${name}: `);
  const b = await hiddenPrompt(`repeat passphrase for ${name}: `);
  if (!a.equals(b)) throw new UsageError('the two passphrases differ');
  b.fill(0);
  return a;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError) {
      process.stderr.write(`rootca: ${e.message}\n`);
      return 2;
    }
    if (e instanceof CaError) {
      process.stderr.write(`rootca: ${e.message} [${e.code}]\n`);
      return 1;
    }
    process.stderr.write(`rootca: unexpected error: ${(e as Error).stack ?? e}\n`);
    return 1;
  }
}
