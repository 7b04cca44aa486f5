/**
 * PRAGMA integrity_check of a stored snapshot in a worker thread (issue 17.5): the backup after
 * a change copies and hashes the snapshot meanwhile (archive/backup.ts). The worker gives what
 * integrityCheck in store/snapshot.ts gives for the same file.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * The worker for integrityCheckInWorker: opens the snapshot read-only and gives what
 * store/snapshot.ts integrityCheck gives for it (the rows of PRAGMA integrity_check joined by '; ').
 */
const INTEGRITY_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
let result;
try {
  const db = new Database(workerData.path, { readonly: true, fileMustExist: true });
  try {
    result = { integrity: db.pragma('integrity_check').map((r) => r.integrity_check).join('; ') };
  } finally {
    db.close();
  }
} catch (e) {
  result = { error: e instanceof Error ? e.message : String(e) };
}
parentPort.postMessage(result);
`;

/**
 * PRAGMA integrity_check of a snapshot file, run in a worker thread so that the caller can copy
 * and hash the same file meanwhile (issue 17.5: at 1 M revocations each takes about a second,
 * and the backup used to run them one after the other). Resolves to what integrityCheck gives.
 */
export function integrityCheckInWorker(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(INTEGRITY_WORKER, { eval: true, workerData: { path, sqlite } });
    worker.once('message', (m: { integrity?: string; error?: string }) =>
      m.integrity !== undefined ? resolve(m.integrity) : reject(new Error(m.error)),
    );
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the integrity check worker exited with code ${code}`)));
  });
}
