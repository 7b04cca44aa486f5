/**
 * Where the secondary backup lives (CPS 5.5.4: "the secondary backup shall be stored in a
 * remote location"). A folder on the same file system as the installation or the primary
 * dies with the same disk, so `init` and `archive inspect` warn about it. Removable or remote
 * media (a mounted USB disk, an NFS/SMB share) show up as a different device number, which is
 * what is compared; a folder that does not exist yet is judged by the nearest one that does,
 * i.e. where it would be created.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

/** The device of the file system that holds `path` (or would hold it, once created). */
function deviceOf(path: string): number {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return statSync(p).dev;
}

/**
 * Warnings when the secondary location is on the file system of the installation home or of
 * the primary location (all paths absolute). Empty when it is elsewhere.
 */
export function secondaryLocationWarnings(p: { home: string; primary: string; secondary: string }): string[] {
  const secondary = deviceOf(p.secondary);
  const same = [
    ...(deviceOf(p.home) === secondary ? [`the installation (${p.home})`] : []),
    ...(deviceOf(p.primary) === secondary ? [`the primary location (${p.primary})`] : []),
  ];
  if (same.length === 0) return [];
  return [
    `the secondary backup location ${p.secondary} is on the same file system as ${same.join(' and ')}: ` +
      'one disk failure loses both copies. CPS 5.5.4 wants it in a remote location: set archive.secondary in rootca.yaml ' +
      'to removable or remote media (see docs/records-and-audit.md)',
  ];
}
