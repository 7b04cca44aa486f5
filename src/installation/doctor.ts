/**
 * `rootca doctor` (issue 14): what an operator should know before the next ceremony, found
 * without changing anything — files with secrets readable by others (CPS 6.2.4, 6.4.2),
 * ceremonies a crash interrupted (durable-outputs.ts), and a state that does not answer to the
 * audit log (audit/state-check.ts). Read-only: it appends no event and asks for no passphrase.
 */
import { join } from 'node:path';
import { verifyStateAgainstLog } from '../audit/state-check.ts';
import { findLooseModes, PRIVATE_DIR_MODE, SQLITE_COMPANIONS } from '../util/file-modes.ts';
import { archiveLocations } from '../records/backups.ts';
import { listInterruptedWork } from '../operation/durable-outputs.ts';
import { CONFIG_FILE, DATABASE_FILE, type Installation } from './installation.ts';
import { statSync } from 'node:fs';

export interface DoctorFinding {
  severity: 'warning' | 'error';
  topic: 'file-mode' | 'interrupted' | 'audit';
  message: string;
}

export interface DoctorReport {
  ok: boolean;
  findings: DoctorFinding[];
}

export function runDoctor(inst: Installation): DoctorReport {
  const findings: DoctorFinding[] = [];
  const homeMode = statSync(inst.home).mode & 0o777;
  if (homeMode & 0o077)
    findings.push({
      severity: 'warning',
      topic: 'file-mode',
      message: `the home ${inst.home} is 0${homeMode.toString(8)}; it should be 0${PRIVATE_DIR_MODE.toString(8)} (chmod 700): it holds wrapped keys and sealed shares`,
    });
  const files = [...SQLITE_COMPANIONS.map((s) => join(inst.home, DATABASE_FILE + s)), join(inst.home, CONFIG_FILE)];
  for (const m of findLooseModes([...files, ...archiveLocations(inst).map((l) => l.dir)])) {
    findings.push({
      severity: 'warning',
      topic: 'file-mode',
      message: `${m.path} is ${m.mode}; it should be ${m.want} (chmod ${m.want.slice(1)}): readable by others, it exposes wrapped keys or sealed shares`,
    });
  }
  for (const w of listInterruptedWork(inst)) {
    findings.push({
      severity: 'warning',
      topic: 'interrupted',
      message: `ceremony #${w.ceremonyId} (${w.kind}, started ${w.startedAt}): ${w.note}`,
    });
  }
  const chain = inst.audit.verify();
  if (!chain.ok)
    findings.push({
      severity: 'error',
      topic: 'audit',
      message: `the audit log does not verify${chain.firstBad ? ` at event ${chain.firstBad.position}: ${chain.firstBad.problem}` : ''} (rootca audit verify)`,
    });
  for (const m of verifyStateAgainstLog(inst.db).mismatches)
    findings.push({ severity: 'error', topic: 'audit', message: `${m.row} <-> ${m.event}: ${m.problem}` });
  return { ok: findings.length === 0, findings };
}
