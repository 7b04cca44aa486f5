/**
 * A responder's local copy of the last publication it verified and switched to, with the trust
 * anchors it verified it against (issue 9; CPS 2.1 wants the Repository 24x7): a responder that
 * (re)starts while PostgreSQL is unreachable serves this copy instead of refusing to start.
 *
 * - One file (`publication.json`), so publication and anchors change together: written to a
 *   temp file, fsynced, renamed over the old one, and the folder fsynced. A crash leaves the
 *   old copy or the new one, never half of either.
 * - Never trusted blindly: it is verified again (src/publish/verify.ts, with the cached
 *   anchors) before it is served; a copy that fails is refused (PUBLICATION_CACHE_INVALID).
 * - Never moves backwards: a version not newer than the one in the file is not written (the
 *   workers of one responder share the folder and may finish their writes out of order).
 *
 * No secret is involved: a publication and root certificates are public data (CPS 2.2).
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { CaError } from '../errors.ts';
import { verifyPublication, type VerifiedPublication } from '../publish/verify.ts';
import type { FollowTarget } from './publication-follower.ts';

const FORMAT = 'rootca-last-publication/1';
const FILE = 'publication.json';

interface CacheFile {
  format: string;
  version: number;
  savedAt: string;
  /** SHA-256 of the publication bytes (catches a damaged file before the costlier verification). */
  sha256: string;
  /** The publication file, base64. */
  publication: string;
  /** DER root certificates, base64. */
  trustAnchors: string[];
}

/** A local copy that passed verification. */
export interface VerifiedCopy {
  version: number;
  bytes: Buffer;
  trustAnchors: Buffer[];
  publication: VerifiedPublication;
  savedAt: string;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export class PublicationCache {
  readonly file: string;
  private saving: Promise<void> = Promise.resolve();

  constructor(readonly dir: string) {
    this.file = join(dir, FILE);
  }

  /** The file's contents, undefined when there is none; PUBLICATION_CACHE_INVALID when it cannot be read as a copy. */
  private read(): CacheFile | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw this.invalid(`cannot be read: ${(e as Error).message}`, e);
    }
    let f: CacheFile;
    try {
      f = JSON.parse(text) as CacheFile;
    } catch (e) {
      throw this.invalid(`is not JSON: ${(e as Error).message}`, e);
    }
    if (
      f?.format !== FORMAT ||
      !Number.isSafeInteger(f.version) ||
      typeof f.publication !== 'string' ||
      !Array.isArray(f.trustAnchors) ||
      f.trustAnchors.some((a) => typeof a !== 'string')
    ) {
      throw this.invalid(`is not a ${FORMAT} file`);
    }
    return f;
  }

  private invalid(reason: string, cause?: unknown): CaError {
    return new CaError(
      'PUBLICATION_CACHE_INVALID',
      `the local copy of the publication ${this.file} ${reason}; it is not served`,
      { cause, details: { file: this.file } },
    );
  }

  /** The version in the file without verifying it (undefined: no copy). */
  peekVersion(): number | undefined {
    return this.read()?.version;
  }

  /** Reads and verifies the copy (undefined: none); PUBLICATION_CACHE_INVALID when it fails. */
  loadVerified(now: Date): VerifiedCopy | undefined {
    const f = this.read();
    if (!f) return undefined;
    const bytes = Buffer.from(f.publication, 'base64');
    if (sha256(bytes) !== f.sha256)
      throw this.invalid(`(version ${f.version}) is damaged: its SHA-256 does not match the one recorded`);
    const trustAnchors = f.trustAnchors.map((a) => Buffer.from(a, 'base64'));
    let publication: VerifiedPublication;
    try {
      // A copy of what was imported: one signed by a root before issue 15 is served until replaced.
      publication = verifyPublication(bytes, { trustAnchors, now, acceptRootSigned: true });
    } catch (e) {
      throw this.invalid(`(version ${f.version}) fails verification: ${(e as Error).message}`, e);
    }
    if (publication.manifest.version !== f.version)
      throw this.invalid(`says version ${f.version} but holds publication version ${publication.manifest.version}`);
    return { version: f.version, bytes, trustAnchors, publication, savedAt: f.savedAt };
  }

  /**
   * Writes a verified publication as the copy, after any write still on its way (one at a time
   * per process). Skipped when the file already holds this version or a newer one. Errors go to
   * the caller: a failed write only means an older copy stays.
   */
  save(version: number, bytes: Buffer, trustAnchors: Buffer[], now: Date): Promise<void> {
    const next = this.saving.then(() => this.write(version, bytes, trustAnchors, now));
    this.saving = next.catch(() => undefined);
    return next;
  }

  /** The file holds `version` or a newer one (a damaged file holds nothing: it is replaced). */
  private holds(version: number): boolean {
    try {
      const held = this.peekVersion();
      return held !== undefined && held >= version;
    } catch {
      return false;
    }
  }

  private async write(version: number, bytes: Buffer, trustAnchors: Buffer[], now: Date): Promise<void> {
    if (this.holds(version)) return;
    mkdirSync(this.dir, { recursive: true });
    const body: CacheFile = {
      format: FORMAT,
      version,
      savedAt: now.toISOString(),
      sha256: sha256(bytes),
      publication: bytes.toString('base64'),
      trustAnchors: trustAnchors.map((a) => a.toString('base64')),
    };
    const tmp = join(this.dir, `.${FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      const fh = await open(tmp, 'wx', 0o644);
      try {
        await fh.writeFile(JSON.stringify(body));
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (this.holds(version)) return; // another worker wrote this or a newer one meanwhile
      renameSync(tmp, this.file);
      const d = openSync(this.dir, 'r');
      try {
        fsyncSync(d);
      } finally {
        closeSync(d);
      }
    } finally {
      try {
        unlinkSync(tmp);
      } catch {
        // renamed
      }
    }
  }
}

/** `target`, with every publication it switches to also written as the local copy (in the background). */
export function keepingLocalCopy(
  target: FollowTarget,
  cache: PublicationCache,
  now: () => Date,
  onError: (e: unknown) => void,
): FollowTarget {
  return {
    wants: (v) => target.wants(v),
    adopt: (row, trustAnchors) => {
      const switched = target.adopt(row, trustAnchors);
      if (switched) cache.save(row.version, row.bytes, trustAnchors, now()).catch(onError);
      return switched;
    },
  };
}
