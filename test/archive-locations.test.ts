/**
 * CPS 5.5.4 "the secondary backup shall be stored in a remote location": `rootca init` and
 * `rootca archive inspect` warn while the secondary location is on the file system of the
 * installation or of the primary (the default config puts both under the home), and stop
 * warning once it is on other media (here /dev/shm, a tmpfs, stands in for a mounted disk).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { secondaryLocationWarnings } from '../src/archive/locations.ts';
import { parseInstallationConfig, renderInstallationConfig } from '../src/config/installation.ts';
import { rootca, tempDir } from './helpers.ts';

const OTHER_MEDIA = '/dev/shm';
const otherMediaAvailable = existsSync(OTHER_MEDIA) && statSync(OTHER_MEDIA).dev !== statSync(tempDir()).dev;

describe('CPS 5.5.4 the secondary backup location on other media', () => {
  const dir = tempDir('rootca-locations-');
  const home = join(dir, 'home');
  const remote = otherMediaAvailable ? mkdtempSync(join(OTHER_MEDIA, 'rootca-secondary-')) : '';
  after(() => {
    if (remote) rmSync(remote, { recursive: true, force: true });
  });
  /** The installation the first test makes, made here when a later test runs alone (issue 21). */
  const initialised = () => {
    if (existsSync(join(home, 'rootca.db'))) return;
    const r = rootca(['init', '--home', home, '--name', 'locations']);
    assert.equal(r.status, 0, r.stderr);
  };

  it("rootca init warns that the default secondary shares the installation's file system, and records the warning", () => {
    const r = rootca(['init', '--home', home, '--name', 'locations']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /WARNING the secondary backup location \S+backups\/secondary is on the same file system as the installation \(\S+\) and the primary location \(\S+\): one disk failure loses both copies\. CPS 5\.5\.4/,
    );
    const db = new Database(join(home, 'rootca.db'), { readonly: true });
    const init = db.prepare("SELECT details FROM audit_events WHERE action = 'installation.init'").get() as {
      details: string;
    };
    db.close();
    assert.match(JSON.parse(init.details).warnings[0], /same file system/);
  });

  it('rootca archive inspect warns too, without calling it a loss', () => {
    initialised();
    const r = rootca(['archive', 'inspect', '--home', home]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /WARNING the secondary backup location .* same file system/);
  });

  it('no warning once archive.secondary is on other media (a folder not made yet is judged where it would be made)', {
    skip: !otherMediaAvailable && `${OTHER_MEDIA} is not a separate file system here`,
  }, () => {
    initialised();
    assert.deepEqual(
      secondaryLocationWarnings({
        home,
        primary: join(home, 'backups/primary'),
        secondary: join(remote, 'not-yet', 'secondary'),
      }),
      [],
    );
    const file = join(home, 'rootca.yaml');
    const config = parseInstallationConfig(readFileSync(file, 'utf8'), file);
    config.archive.secondary = join(remote, 'secondary');
    writeFileSync(file, renderInstallationConfig(config));
    const r = rootca(['archive', 'inspect', '--home', home]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /same file system/);
  });

  it('a secondary beside the primary on another disk than the home is still one disk for both copies', () => {
    const warnings = secondaryLocationWarnings({
      home: OTHER_MEDIA,
      primary: join(dir, 'p'),
      secondary: join(dir, 's'),
    });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, new RegExp(`same file system as the primary location \\(${dir}/p\\)`));
    if (otherMediaAvailable) assert.doesNotMatch(warnings[0]!, /the installation/);
  });
});
