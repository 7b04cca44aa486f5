/**
 * Issue 17.5 bench: offline work against a peer doing the same work on the same data.
 * Run: `npm run bench:offline` (also part of `npm run bench`); not part of `npm test`.
 *
 *   crl issue, N revoked entries  `rootca crl issue` on a home whose CA has N revocations, against
 *                                 `openssl ca -gencrl` on an index.txt with the same serials, dates
 *                                 and reasons (a P-384 CA key, as ecc-rootca1's: ecdsa-with-SHA384)
 *   audit verify, N events        `rootca audit verify` on a home whose log has N more events,
 *                                 against `sha256sum` over the events' bytes (their leaves)
 *
 * The sizes are built directly through the store (one transaction of rows, not N ceremonies):
 * certificate rows carry a 64-byte stand-in for the DER, which `crl issue` never reads (it reads
 * serials and revocations; the backup it writes after the commit copies the whole file).
 * Each round runs both sides of a case, alternating which goes first; each run is timed by
 * `/usr/bin/time` (wall seconds and max RSS) and the load average is printed with it.
 * BENCH_CRL_SIZES (default 100000,1000000), BENCH_AUDIT_EVENTS (default 1000000),
 * BENCH_OFFLINE_ROUNDS (default 2). Goals: crl issue of 100 k entries under 5 s and 300 MB,
 * 1 M entries within 2x of openssl; audit verify within 5x of sha256.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { eventHash, eventLeaf } from '../src/audit/event.ts';
import type { Installation } from '../src/installation/installation.ts';
import { insertAuditEvent } from '../src/store/audit-events.ts';
import { derToPem } from '../src/pki/pem.ts';
import { currentCaCertificateDer } from '../src/store/cas.ts';
import { setMetaValue } from '../src/store/meta.ts';
import { addCertificateRows } from './lib/store-rows.ts';
import { canonicalJson } from '../src/util/canonical-json.ts';
import { allPassphrases, installationWithPeople, REPO, runShippedCeremony, tempDir } from '../test/helpers.ts';

const list = (v: string | undefined, d: string) => (v ?? d).split(',').filter(Boolean).map(Number);
const CRL_SIZES = list(process.env.BENCH_CRL_SIZES, '100000,1000000');
const AUDIT_EVENTS = list(process.env.BENCH_AUDIT_EVENTS, '1000000');
const ROUNDS = Number(process.env.BENCH_OFFLINE_ROUNDS ?? 2);
const BIN = join(REPO, 'bin', 'rootca.mjs');
const CA = 'ecc-rootca1';
const REVOKED_AT = new Date('2026-06-01T00:00:00Z');

interface Measured {
  seconds: number;
  /** User + system CPU seconds: on a loaded machine the wall time mostly measures the queue. */
  cpu: number;
  maxRssMb: number;
  load: number;
}

/** Runs a command under /usr/bin/time: wall seconds and max RSS of the process. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Measured {
  const load = loadavg()[0]!;
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', cmd, ...args], {
    env,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const last = r.stderr.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stderr.slice(-2000)}`);
  const [seconds, kb, user, sys] = last.split(' ').map(Number);
  return { seconds: seconds!, cpu: user! + sys!, maxRssMb: kb! / 1024, load };
}

/** A home with the ECC root and its people; the passphrases are this process's (see test/helpers.ts). */
async function homeWithRoot(): Promise<{ inst: Installation; dir: string; env: NodeJS.ProcessEnv }> {
  const dir = tempDir('rootca-bench-offline-');
  const inst = installationWithPeople({ dir });
  await runShippedCeremony(inst, CA, dir);
  const env = { ...process.env };
  for (const [name, p] of Object.entries(allPassphrases())) env[`ROOTCA_PASSPHRASE_${name.toUpperCase()}`] = p;
  return { inst, dir, env };
}

const serialOf = (i: number) => (0x4000000000 + i).toString(16);
const REASONS = ['keyCompromise', 'superseded', 'cessationOfOperation', 'affiliationChanged'] as const;
const OPENSSL_REASONS = ['keyCompromise', 'superseded', 'cessationOfOperation', 'affiliationChanged'];

/** N issued certificates of the CA, all revoked (a stand-in DER: `crl issue` reads serials and revocations). */
function addRevoked(inst: Installation, n: number): void {
  addCertificateRows(inst, {
    ca: CA,
    count: n,
    serialOf,
    profile: 'subca',
    der: Buffer.alloc(64, 0x30),
    revocation: (i) => ({
      revokedAt: new Date(REVOKED_AT.getTime() + i * 1000).toISOString(),
      reason: REASONS[i % REASONS.length]!,
      recordedAt: REVOKED_AT.toISOString(),
    }),
  });
}

const asnTime = (d: Date) => `${d.toISOString().replace(/[-:T]/g, '').slice(2, 14)}Z`;

/** An openssl CA folder (P-384 key, self-signed) whose index.txt revokes the same serials. */
function opensslCa(dir: string, n: number): string[] {
  const ca = join(dir, 'openssl-ca');
  mkdirSync(ca, { recursive: true });
  const run = (...args: string[]) => {
    const r = spawnSync('openssl', args, { cwd: ca, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  run('ecparam', '-name', 'secp384r1', '-genkey', '-noout', '-out', 'ca.key');
  run(
    'req',
    '-new',
    '-x509',
    '-key',
    'ca.key',
    '-sha384',
    '-subj',
    '/CN=bench openssl CA',
    '-days',
    '3650',
    '-out',
    'ca.crt',
  );
  writeFileSync(join(ca, 'crlnumber'), '01\n');
  writeFileSync(
    join(ca, 'ca.cnf'),
    `[ca]\ndefault_ca = bench\n[bench]\ndir = ${ca}\ndatabase = $dir/index.txt\ncrlnumber = $dir/crlnumber\ncertificate = $dir/ca.crt\nprivate_key = $dir/ca.key\ndefault_md = sha384\ndefault_crl_days = 180\ncrl_extensions = crl_ext\n[crl_ext]\nauthorityKeyIdentifier = keyid:always\n`,
  );
  const index = join(ca, 'index.txt');
  writeFileSync(index, '');
  let batch: string[] = [];
  for (let i = 1; i <= n; i++) {
    const revoked = asnTime(new Date(REVOKED_AT.getTime() + i * 1000));
    batch.push(
      `R\t360101000000Z\t${revoked},${OPENSSL_REASONS[i % 4]}\t${serialOf(i).toUpperCase()}\tunknown\t/CN=bench ${i}`,
    );
    if (batch.length === 10000 || i === n) {
      appendFileSync(index, `${batch.join('\n')}\n`);
      batch = [];
    }
  }
  return ['ca', '-config', join(ca, 'ca.cnf'), '-gencrl', '-out', join(ca, 'crl.pem')];
}

/** N audit events appended after the home's own, hashed and chained as the log does, in one transaction. */
function addAuditEvents(inst: Installation, n: number, leavesFile: string): void {
  let { seq, hash } = inst.audit.head();
  const leaves: Buffer[] = [];
  inst.db.transaction(() => {
    for (let i = 1; i <= n; i++) {
      const event = {
        seq: seq + 1,
        at: new Date(REVOKED_AT.getTime() + i).toISOString(),
        actor: 'alice',
        roles: ['ca-administrator'],
        action: i % 2 ? 'ocsp.presigned' : 'certificate.revoked',
        target: CA,
        outcome: 'success' as const,
        details: { ceremonyId: i, serial: serialOf(i), responses: 2, keyId: 'bench' },
      };
      const next = eventHash(hash, event);
      const details = canonicalJson(event.details);
      insertAuditEvent(inst.db, {
        ...event,
        roles: JSON.stringify(event.roles),
        details,
        prev_hash: hash,
        hash: next,
      });
      leaves.push(eventLeaf(event));
      if (leaves.length === 10000) appendFileSync(leavesFile, Buffer.concat(leaves.splice(0)));
      seq = event.seq;
      hash = next;
    }
    setMetaValue(inst.db, 'audit_head', `${seq}:${hash}`);
  })();
  appendFileSync(leavesFile, Buffer.concat(leaves));
}

interface Row {
  what: string;
  ours: Measured[];
  peer: Measured[];
  peerName: string;
}

const show = (m: Measured) =>
  `${m.seconds.toFixed(2)} s (CPU ${m.cpu.toFixed(2)} s) ${m.maxRssMb.toFixed(0)} MB (load ${m.load.toFixed(1)})`;

/** ROUNDS rounds of both sides, the first side alternating. */
function rounds(what: string, peerName: string, ours: () => Measured, peer: () => Measured): Row {
  const row: Row = { what, ours: [], peer: [], peerName };
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      row.ours.push(ours());
      row.peer.push(peer());
    } else {
      row.peer.push(peer());
      row.ours.push(ours());
    }
    const o = row.ours.at(-1)!;
    const p = row.peer.at(-1)!;
    console.log(
      `  ${what} round ${r + 1} (${r % 2 === 0 ? 'ours first' : 'peer first'}): ours ${show(o)}, ${peerName} ${show(p)}`,
    );
  }
  return row;
}

/** `openssl crl -verify` on the CRL we wrote, with the CA certificate: the big CRL is checked by a relying party too. */
function opensslVerifies(inst: Installation, dir: string, crl: string): string {
  const caId = (inst.db.prepare('SELECT id FROM cas WHERE name = ?').get(CA) as { id: number }).id;
  const pem = join(dir, 'ca.pem');
  writeFileSync(pem, derToPem(currentCaCertificateDer(inst.db, caId)!, 'CERTIFICATE'));
  const r = spawnSync('openssl', ['crl', '-inform', 'DER', '-in', crl, '-CAfile', pem, '-noout', '-verify'], {
    encoding: 'utf8',
  });
  return `${r.stdout}${r.stderr}`.trim();
}

async function crlCase(n: number): Promise<Row> {
  const { inst, dir, env } = await homeWithRoot();
  addRevoked(inst, n);
  const home = join(dir, 'home');
  const args = [BIN, '--home', home, 'crl', 'issue', '--ca', CA, '--operator', 'alice', '--witness', 'olivia'];
  let written = 0;
  const ours = () => timed(process.execPath, [...args, '--out', join(dir, `ours-${++written}.crl`)], env);
  try {
    const peerArgs = opensslCa(dir, n);
    const row = rounds(`crl issue, ${n} entries`, 'openssl ca -gencrl', ours, () => timed('openssl', peerArgs));
    console.log(
      `  openssl crl -verify on our CRL of ${n} entries: ${opensslVerifies(inst, dir, join(dir, 'ours-1.crl'))}`,
    );
    return row;
  } finally {
    inst.db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function auditCase(n: number): Promise<Row> {
  const { inst, dir, env } = await homeWithRoot();
  const leaves = join(dir, 'leaves.bin');
  addAuditEvents(inst, n, leaves);
  inst.db.close();
  const args = [BIN, '--home', join(dir, 'home'), 'audit', 'verify'];
  try {
    return rounds(
      `audit verify, ${n} events`,
      'sha256sum',
      () => timed(process.execPath, args, env),
      () => timed('sha256sum', [leaves]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

/**
 * The goal of a case, judged on the wall-clock median and on CPU time: on a loaded machine the
 * wall time mostly measures the run queue, and the CPU time is what the work itself costs.
 */
function goalOf(row: Row, ratio: number, cpuRatio: number): string {
  const m = /crl issue, (\d+)/.exec(row.what);
  const verdict = (ok: boolean) => (ok ? 'MET' : 'NOT MET');
  const ours = median(row.ours.map((x) => x.seconds));
  const cpu = median(row.ours.map((x) => x.cpu));
  const rss = Math.max(...row.ours.map((x) => x.maxRssMb));
  if (m && Number(m[1]) === 100000)
    return `< 5 s, < 300 MB: wall ${verdict(ours < 5 && rss < 300)}, CPU ${verdict(cpu < 5 && rss < 300)}`;
  const limit = m ? 2 : 5;
  return `<= ${limit}x: wall ${verdict(ratio <= limit)}, CPU ${verdict(cpuRatio <= limit)}`;
}

const rows: Row[] = [];
console.log(
  `offline bench, ${ROUNDS} rounds per case (Node ${process.version}, ${new Date().toISOString()}, load ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')})`,
);
for (const n of CRL_SIZES) rows.push(await crlCase(n));
for (const n of AUDIT_EVENTS) rows.push(await auditCase(n));
console.log(
  '\n| case | ours median s | ours CPU s | ours max RSS MB | peer | peer median s | peer CPU s | peer max RSS MB | ratio | CPU ratio | goal |',
);
console.log('|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---|');
for (const r of rows) {
  const ours = median(r.ours.map((x) => x.seconds));
  const peer = median(r.peer.map((x) => x.seconds));
  const ratio = ours / peer;
  const oursCpu = median(r.ours.map((x) => x.cpu));
  const peerCpu = median(r.peer.map((x) => x.cpu));
  const rss = (xs: Measured[]) => Math.max(...xs.map((x) => x.maxRssMb)).toFixed(0);
  const cpuRatio = oursCpu / peerCpu;
  console.log(
    `| ${r.what} | ${ours.toFixed(2)} | ${oursCpu.toFixed(2)} | ${rss(r.ours)} | \`${r.peerName}\` | ${peer.toFixed(2)} | ${peerCpu.toFixed(2)} | ${rss(r.peer)} | ${ratio.toFixed(2)} | ${cpuRatio.toFixed(2)} | ${goalOf(r, ratio, cpuRatio)} |`,
  );
}
console.log(
  `\nload average at the end: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} (${cpus().length} cores)`,
);
