/**
 * The demo behind `npm start`: an installation with demo people in every role, the four roots
 * of R-1 made by the shipped ceremony files, a subordinate CA under each issued through the
 * whole RA workflow, one more revoked (so the Repository shows a revocation), CRLs, pre-signed
 * OCSP responses, the demo CPS (docs/demo-cps.md) through the document workflow, and a signed
 * publication file imported into the online store.
 *
 * The demo passphrases are random, live only in this process and are never written anywhere
 * (no passphrase in plaintext on disk): a reused demo can be served and looked at, not used
 * to sign. Run your own installation for that (README, "Ceremony walk-through").
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRootCeremony } from '../config/ceremony.ts';
import { assembleCertificationRequest, createCertificationRequestInfo } from '../pki/csr-build.ts';
import { createName } from '../pki/name.ts';
import {
  approveApplication,
  recordAcceptance,
  submitApplication,
  type RequestedIssuance,
} from '../issuance/applications.ts';
import { closeBootstrapIfReady } from '../people/appointments.ts';
import { listCas, type CaSummary } from './cas.ts';
import { DATABASE_FILE, initInstallation, openInstallation, type Installation } from './installation.ts';
import { issueFromApplication } from '../issuance/issuance.ts';
import { addOperator } from '../people/operators.ts';
import type { PassphraseSource } from '../people/participants.ts';
import { approveDocument, proposeDocument, publishDocument } from '../documents/documents.ts';
import { publish } from '../status/publication.ts';
import { issueDelegatedKey } from '../custody/delegated-keys.ts';

/** The root whose publication key signs the demo's publication file. */
const DEMO_SIGNER = 'ecc-rootca1';
import { revokeCertificate } from '../status/revocation.ts';
import { runRootCeremony } from '../lifecycle/root-ceremony.ts';
import { issueCrl, presignOcsp } from '../status/ceremonies.ts';

export const DEMO_PEOPLE = [
  { name: 'alice', displayName: 'Alice (demo CA Administrator, custodian)', roles: ['ca-administrator'] },
  { name: 'bob', displayName: 'Bob (demo CA Administrator, custodian)', roles: ['ca-administrator'] },
  { name: 'carol', displayName: 'Carol (demo CA Administrator, custodian)', roles: ['ca-administrator'] },
  { name: 'olivia', displayName: 'Olivia (demo Service Operation Manager)', roles: ['operation-manager'] },
  { name: 'paula', displayName: 'Paula (demo Person Responsible for Services)', roles: ['person-responsible'] },
  { name: 'rita', displayName: 'Rita (demo Person in Charge of RA)', roles: ['ra-officer'] },
  { name: 'ravi', displayName: 'Ravi (demo Person in Charge of RA)', roles: ['ra-officer'] },
  { name: 'leo', displayName: 'Leo (demo Log Examiner)', roles: ['log-examiner'] },
  { name: 'cora', displayName: 'Cora (demo Improvement Committee member)', roles: ['improvement-committee'] },
];
export const DEMO_CEREMONIES = ['rootca1', 'rootca2', 'rootca3', 'ecc-rootca1'];
/** scrypt cost for the demo's random passphrases (see runDemo). */
export const DEMO_SCRYPT_LOG2N = 12;

export interface DemoResult {
  home: string;
  created: boolean;
  cas: CaSummary[];
  certificatesDir: string;
  /** The newest publication file written by the demo. */
  publication?: string;
}

/** A CSR for a demo subordinate CA whose key is made here and thrown away (the demo sub CAs never sign). */
function demoCsr(cn: string): Buffer {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const info = createCertificationRequestInfo({
    subject: createName([
      { type: 'C', value: 'JP', encoding: 'printableString' },
      { type: 'O', value: 'Example Demo Trust', encoding: 'printableString' },
      { type: 'CN', value: cn, encoding: 'printableString' },
    ]),
    subjectPublicKeyInfo: publicKey.export({ format: 'der', type: 'spki' }),
  });
  return assembleCertificationRequest(info, 'ecdsa-with-SHA256', sign('sha256', info, privateKey));
}

/** `demoCpsFile`: the text the demo publishes as its CPS (docs/demo-cps.md in the repository). */
export async function runDemo(
  home: string,
  ceremoniesDir: string,
  progress: (line: string) => void = () => {},
  demoCpsFile = join(ceremoniesDir, '..', 'docs', 'demo-cps.md'),
): Promise<DemoResult> {
  const certificatesDir = join(home, 'certs');
  if (existsSync(join(home, DATABASE_FILE))) {
    const inst = openInstallation(home);
    try {
      return { home: inst.home, created: false, cas: listCas(inst), certificatesDir };
    } finally {
      inst.close();
    }
  }
  // The demo passphrases are 24 random bytes (192 bits), so scrypt's cost adds nothing to
  // their strength: a low cost, recorded in the demo's rootca.yaml, saves minutes of start-up.
  const inst: Installation = initInstallation(home, { name: 'demo', scryptLog2N: DEMO_SCRYPT_LOG2N });
  const secrets = new Map<string, Buffer>();
  const passphrases: PassphraseSource = {
    get: async (name) => (secrets.has(name) ? Buffer.from(secrets.get(name)!) : undefined),
  };
  try {
    addDemoPeople(inst, secrets);
    mkdirSync(certificatesDir, { recursive: true });
    for (const name of DEMO_CEREMONIES) {
      progress(`key ceremony ${name}`);
      const file = join(ceremoniesDir, `${name}.yaml`);
      await runRootCeremony(inst, {
        ceremony: parseRootCeremony(readFileSync(file), file),
        baseDir: certificatesDir,
        passphrases,
      });
    }
    const people = { operator: 'alice', witness: 'olivia', passphrases };
    // A root key signs only certificates and CRLs (BR 6.1.7): each root's OCSP responder key,
    // and ecc-rootca1's publication key, held 2-of-3 by the CA Administrators (issue 15).
    for (const [ca, purpose] of [
      ...DEMO_CEREMONIES.map((c) => [c, 'ocsp'] as const),
      [DEMO_SIGNER, 'publication'] as const,
    ]) {
      progress(`${purpose === 'ocsp' ? 'OCSP responder' : 'publication'} key of ${ca}`);
      await issueDelegatedKey(inst, {
        ...people,
        caName: ca,
        purpose,
        holders: ['alice', 'bob', 'carol'],
        threshold: 2,
      });
    }
    for (const ca of DEMO_CEREMONIES) {
      // Sub-CAs by purpose (issue 15): S/MIME under rootca3, TLS (technically constrained under ecc-rootca1) elsewhere.
      const purpose = ca === 'rootca3' ? SMIME_SUBCA : ca === 'ecc-rootca1' ? TLS_CONSTRAINED_SUBCA : TLS_SUBCA;
      progress(`${purpose.purpose} subordinate CA under ${ca} (submit, approve, issue, accept)`);
      await issueViaRa(inst, passphrases, ca, `Demo ${ca} Sub CA`, purpose);
    }
    progress('a retired subordinate CA under rootca2, revoked');
    const retired = await issueViaRa(inst, passphrases, 'rootca2', 'Demo rootca2 Retired Sub CA', TLS_SUBCA);
    await revokeCertificate(inst, {
      ...people,
      caName: 'rootca2',
      serial: retired.serialHex,
      reason: 'superseded',
      approvedBy: 'ravi',
    });
    for (const ca of DEMO_CEREMONIES) {
      progress(`CRL and pre-signed OCSP for ${ca}`);
      if (ca !== 'rootca2') await issueCrl(inst, { ...people, caName: ca });
      await presignOcsp(inst, { ...people, caName: ca });
    }
    progress('the demo CPS: proposed, approved by the Committee, published');
    await publishDemoCps(inst, passphrases, demoCpsFile);
    mkdirSync(join(home, 'publications'), { recursive: true });
    const publication = join(home, 'publications', 'publication-1.json');
    progress('publication file');
    await publish(inst, { ...people, signerCa: DEMO_SIGNER, out: publication });
    return { home: inst.home, created: true, cas: listCas(inst), certificatesDir, publication };
  } finally {
    for (const s of secrets.values()) s.fill(0);
    inst.close();
  }
}

/** The demo's people, each enrolled with a fresh random passphrase kept in `secrets` for the run. */
function addDemoPeople(inst: Installation, secrets: Map<string, Buffer>): void {
  const today = inst.clock.now().toISOString().slice(0, 10);
  for (const p of DEMO_PEOPLE) {
    const passphrase = Buffer.from(randomBytes(24).toString('base64url'));
    secrets.set(p.name, passphrase);
    addOperator(inst, {
      name: p.name,
      displayName: p.displayName,
      roles: p.roles,
      kind: 'ed25519',
      passphrase,
      trainedOn: today,
      backgroundCheckedOn: today,
    });
  }
  closeBootstrapIfReady(inst);
}

/** A TLS sub-CA: serverAuth and the reserved OV policy (Mozilla 5.3, BR 7.1.2.10.5-6). */
const TLS_SUBCA: RequestedIssuance = { purpose: 'tls-server', extraPolicyOids: ['2.23.140.1.2.2'] };
/** A technically constrained TLS sub-CA (BR 7.1.2.5.2): one DNS subtree, its organisation; IPs excluded. */
const TLS_CONSTRAINED_SUBCA: RequestedIssuance = {
  ...TLS_SUBCA,
  permittedDnsNames: ['demo.example'],
  permittedDirectoryNames: ['C=JP, O=Example Demo Trust'],
};
/** An S/MIME sub-CA: emailProtection and the reserved organization-multipurpose policy (S/MIME BR 7.1.6.1). */
const SMIME_SUBCA: RequestedIssuance = { purpose: 'smime', extraPolicyOids: ['2.23.140.1.5.2.2'] };

/** A subordinate CA certificate the way the RA does it: submitted, approved, issued, accepted. */
async function issueViaRa(
  inst: Installation,
  passphrases: PassphraseSource,
  ca: string,
  cn: string,
  purpose: RequestedIssuance,
) {
  const app = await submitApplication(inst, {
    by: 'rita',
    passphrases,
    caName: ca,
    profile: 'subca',
    csr: demoCsr(cn),
    applicantOrganisation: 'Example Demo Trust',
    applicantContact: 'pki@demo.example',
    requested: { pathLenConstraint: 0, ...purpose },
  });
  await approveApplication(inst, {
    id: app.id,
    by: 'ravi',
    passphrases,
    identification: { documentType: 'demo registry extract', reference: `DEMO-${app.id}` },
  });
  // RootCA1's default is SHA-1 (legacy, R-1.3): the demo issues with SHA-256 instead.
  const issued = await issueFromApplication(inst, {
    applicationId: app.id,
    operator: 'alice',
    witness: 'olivia',
    passphrases,
    signatureAlgorithm: ca === 'rootca1' ? 'sha256WithRSAEncryption' : undefined,
  });
  await recordAcceptance(inst, { id: app.id, by: 'rita', passphrases, note: 'demo acceptance' });
  return issued;
}

/** The demo CPS, proposed, approved by the Committee and published like any governed document. */
async function publishDemoCps(inst: Installation, passphrases: PassphraseSource, demoCpsFile: string): Promise<void> {
  await proposeDocument(inst, {
    by: 'paula',
    passphrases,
    name: 'cps',
    title: 'Demo Certification Practice Statement',
    text: readFileSync(demoCpsFile),
    critical: false,
    description: "First version of the demo installation's practice statement",
  });
  await approveDocument(inst, { by: 'cora', passphrases, name: 'cps' });
  await publishDocument(inst, { by: 'paula', passphrases, name: 'cps' });
}
