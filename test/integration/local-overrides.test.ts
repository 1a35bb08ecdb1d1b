// --config, CALLPOP_CONFIG and CALLPOP_USER_DATA_DIR must not undo the machine policy in a packaged
// app: honoured in unpackaged runs, or when the machine-wide policy sets allowLocalOverrides.
// The machine-wide file is a real file in a temp folder (its real location needs root).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startupPaths } from '../../main/core/config/local-overrides';
import { loadPolicySync } from '../../main/core/config/policy-file';

let dir = '';
let machine = '';
const read: string[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'callpop-overrides-'));
  machine = join(dir, 'machine-policy.json');
  read.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const loadPolicy = (file: string) => {
  read.push(file);
  return loadPolicySync(machine);
};
const env = () => ({ CALLPOP_CONFIG: join(dir, 'user-policy.json'), CALLPOP_USER_DATA_DIR: join(dir, 'data') });
const argv = ['callpop', '--config', '/home/u/empty.json'];

describe('startupPaths', () => {
  it('a packaged app ignores all three when the machine policy says nothing, and reads the machine-wide file', () => {
    writeFileSync(machine, JSON.stringify({ locked: { popup: { enabled: true } } }));
    const r = startupPaths({ isPackaged: true, platform: 'linux', env: env(), argv, loadPolicy });
    expect(r).toEqual({ policyFile: '/etc/callpop/policy.json', userDataDir: null, ignored: ['--config', 'CALLPOP_CONFIG', 'CALLPOP_USER_DATA_DIR'] });
    expect(read).toEqual(['/etc/callpop/policy.json']);
    const win = startupPaths({ isPackaged: true, platform: 'win32', env: { ...env(), ProgramData: 'C:\\ProgramData' }, argv: [], loadPolicy });
    expect(win).toMatchObject({ policyFile: 'C:\\ProgramData\\Callpop\\policy.json', userDataDir: null, ignored: ['CALLPOP_CONFIG', 'CALLPOP_USER_DATA_DIR'] });
  });

  it('a packaged app without any machine policy, or with an invalid one, ignores them too', () => {
    expect(startupPaths({ isPackaged: true, platform: 'darwin', env: env(), argv: [], loadPolicy })).toMatchObject({ policyFile: '/Library/Application Support/Callpop/policy.json', userDataDir: null });
    writeFileSync(machine, '{ "allowLocalOverrides": "yes" }');
    expect(startupPaths({ isPackaged: true, platform: 'linux', env: env(), argv, loadPolicy })).toMatchObject({ policyFile: '/etc/callpop/policy.json', userDataDir: null });
  });

  it('a packaged app honours them when the machine policy allows it', () => {
    writeFileSync(machine, JSON.stringify({ allowLocalOverrides: true }));
    expect(startupPaths({ isPackaged: true, platform: 'linux', env: env(), argv, loadPolicy })).toEqual({ policyFile: '/home/u/empty.json', userDataDir: join(dir, 'data'), ignored: [] });
    expect(startupPaths({ isPackaged: true, platform: 'linux', env: env(), argv: [], loadPolicy })).toEqual({ policyFile: join(dir, 'user-policy.json'), userDataDir: join(dir, 'data'), ignored: [] });
  });

  it('an unpackaged (development, test) run always honours them, without reading the machine policy', () => {
    expect(startupPaths({ isPackaged: false, platform: 'linux', env: env(), argv, loadPolicy })).toEqual({ policyFile: '/home/u/empty.json', userDataDir: join(dir, 'data'), ignored: [] });
    expect(read).toEqual([]);
  });

  it('nothing given: the machine-wide file and the default data folder', () => {
    expect(startupPaths({ isPackaged: true, platform: 'linux', env: {}, argv: ['callpop'], loadPolicy })).toEqual({ policyFile: '/etc/callpop/policy.json', userDataDir: null, ignored: [] });
    expect(read).toEqual([]);
  });
});
