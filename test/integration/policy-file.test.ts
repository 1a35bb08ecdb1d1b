import { mkdtemp, mkdir, rm, writeFile, unlink, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPolicy, loadPolicySync, policyPaths, stripJsonComments, watchPolicy } from '../../main/core/config/policy-file';
import type { PolicyLoadResult } from '../../main/core/config/policy-file';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'callpop-policy-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('policyPaths', () => {
  it('uses the machine-wide location per platform', () => {
    expect(policyPaths({ platform: 'win32', env: { ProgramData: 'C:\\ProgramData' }, argv: [] })).toEqual(['C:\\ProgramData\\Callpop\\policy.json']);
    expect(policyPaths({ platform: 'win32', env: { PROGRAMDATA: 'D:\\PD' }, argv: [] })).toEqual(['D:\\PD\\Callpop\\policy.json']);
    expect(policyPaths({ platform: 'win32', env: {}, argv: [] })).toEqual(['C:\\ProgramData\\Callpop\\policy.json']);
    expect(policyPaths({ platform: 'darwin', env: {}, argv: [] })).toEqual(['/Library/Application Support/Callpop/policy.json']);
    expect(policyPaths({ platform: 'linux', env: {}, argv: [] })).toEqual(['/etc/callpop/policy.json']);
  });

  it('--config wins over CALLPOP_CONFIG, which wins over the machine-wide file', () => {
    const env = { CALLPOP_CONFIG: '/srv/env.json' };
    expect(policyPaths({ platform: 'linux', env, argv: ['electron', '.', '--config', '/srv/arg.json'] })).toEqual(['/srv/arg.json']);
    expect(policyPaths({ platform: 'linux', env, argv: ['callpop', '--config=/srv/eq.json'] })).toEqual(['/srv/eq.json']);
    expect(policyPaths({ platform: 'linux', env, argv: ['callpop'] })).toEqual(['/srv/env.json']);
    expect(policyPaths({ platform: 'darwin', env: { CALLPOP_CONFIG: '  ' }, argv: [] })).toEqual(['/Library/Application Support/Callpop/policy.json']);
  });

  it('resolves a relative path against cwd, with the platform path rules', () => {
    expect(policyPaths({ platform: 'linux', env: {}, argv: ['--config', 'p.json'], cwd: '/home/a' })).toEqual(['/home/a/p.json']);
    expect(policyPaths({ platform: 'win32', env: { CALLPOP_CONFIG: 'cfg\\p.json' }, argv: [], cwd: 'C:\\Users\\a' })).toEqual(['C:\\Users\\a\\cfg\\p.json']);
  });
});

describe('loadPolicy', () => {
  it('an absent file is no policy, not an error', async () => {
    expect(await loadPolicy(path.join(dir, 'nope.json'))).toEqual({ ok: true, policy: null });
    expect(loadPolicySync(path.join(dir, 'no-dir', 'nope.json'))).toEqual({ ok: true, policy: null });
  });

  it('reads a file with a BOM and comments', async () => {
    const f = path.join(dir, 'policy.json');
    await writeFile(
      f,
      '\uFEFF{\n  // lock the port\n  "locked": { "listenPort": 9100 }, /* and "map" // logins */\n' +
        '  "defaults": { "crmUrlTemplate": "https://crm.example.com//find?n={number}" },\n  "extensionByLogin": { "CONTOSO\\\\jdoe": "117" }\n}\n',
    );
    const r = await loadPolicy(f);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.policy?.locked.listenPort).toBe(9100);
      expect(r.policy?.defaults.crmUrlTemplate).toBe('https://crm.example.com//find?n={number}');
      expect(r.policy?.extensionByLogin).toEqual({ jdoe: '117' });
    }
  });

  it('an invalid file is an error line naming the file and the field', async () => {
    const f = path.join(dir, 'policy.json');
    await writeFile(f, JSON.stringify({ locked: { listenPort: 70000, pbxHost: 'pbx.example.com' } }));
    const r = await loadPolicy(f);
    expect(r).toEqual({ ok: false, error: `Policy file ${f} is invalid and ignored: locked.listenPort: Ports go up to 65535.` });
    expect(loadPolicySync(f)).toEqual(r);
  });

  it('broken JSON, an empty file and a folder are one-line errors', async () => {
    const f = path.join(dir, 'policy.json');
    await writeFile(f, '{ "locked": ');
    const bad = await loadPolicy(f);
    expect(bad.ok === false && bad.error).toMatch(/is not valid JSON/);
    expect(bad.ok === false && bad.error.includes('\n')).toBe(false);
    await writeFile(f, '  \n');
    expect((await loadPolicy(f)).ok).toBe(false);
    const r = await loadPolicy(dir);
    expect(r.ok === false && r.error).toMatch(/it is a folder/);
  });

  it('stripJsonComments leaves strings alone', () => {
    expect(JSON.parse(stripJsonComments('{"a":"//not a comment","b":"/* nor */"} // x'))).toEqual({ a: '//not a comment', b: '/* nor */' });
    expect(JSON.parse(stripJsonComments('{"a":"q\\"//"}'))).toEqual({ a: 'q"//' });
  });
});

/** Resolves with the next onChange result, or rejects after a bounded wait. */
function nextChange(results: PolicyLoadResult[], from: number, ms = 8000): Promise<PolicyLoadResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const t = setInterval(() => {
      if (results.length > from) {
        clearInterval(t);
        resolve(results[from]!);
      } else if (Date.now() - started > ms) {
        clearInterval(t);
        reject(new Error(`no policy change reported within ${ms} ms`));
      }
    }, 20);
  });
}

describe('watchPolicy', () => {
  it('reports create, change, invalid, atomic replace and delete', async () => {
    const f = path.join(dir, 'policy.json');
    const seen: PolicyLoadResult[] = [];
    const stop = watchPolicy(f, (r) => seen.push(r), { debounceMs: 50, pollMs: 500 });
    try {
      await writeFile(f, JSON.stringify({ locked: { listenPort: 9001 } }));
      const created = await nextChange(seen, 0);
      expect(created.ok && created.policy?.locked.listenPort).toBe(9001);

      await writeFile(f, JSON.stringify({ locked: { listenPort: 9002 } }));
      const changed = await nextChange(seen, 1);
      expect(changed.ok && changed.policy?.locked.listenPort).toBe(9002);

      await writeFile(f, JSON.stringify({ locked: { listenPrt: 9003 } }));
      const invalid = await nextChange(seen, 2);
      expect(invalid.ok === false && invalid.error).toMatch(/locked\.listenPrt: not a policy key/);

      const tmp = path.join(dir, 'policy.json.tmp');
      await writeFile(tmp, JSON.stringify({ defaults: { theme: 'dark' } }));
      await rename(tmp, f);
      const replaced = await nextChange(seen, 3);
      expect(replaced.ok && replaced.policy?.defaults.theme).toBe('dark');

      await unlink(f);
      expect(await nextChange(seen, 4)).toEqual({ ok: true, policy: null });
    } finally {
      stop();
    }
  });

  it('works when the folder does not exist yet, and ignores other files', async () => {
    const sub = path.join(dir, 'Callpop');
    const f = path.join(sub, 'policy.json');
    const seen: PolicyLoadResult[] = [];
    const stop = watchPolicy(f, (r) => seen.push(r), { debounceMs: 50, pollMs: 100 });
    try {
      await mkdir(sub);
      await writeFile(path.join(sub, 'other.txt'), 'x');
      await writeFile(f, JSON.stringify({ locked: { startAtLogin: true } }));
      const r = await nextChange(seen, 0);
      expect(r.ok && r.policy?.locked.startAtLogin).toBe(true);
      // An unrelated file never produces a report of its own.
      await writeFile(path.join(sub, 'other.txt'), 'y');
      await new Promise((res) => setTimeout(res, 400));
      expect(seen).toHaveLength(1);
    } finally {
      stop();
    }
  });

  it('does not report after stop()', async () => {
    const f = path.join(dir, 'policy.json');
    const seen: PolicyLoadResult[] = [];
    const stop = watchPolicy(f, (r) => seen.push(r), { debounceMs: 20, pollMs: 50 });
    stop();
    await writeFile(f, '{}');
    await new Promise((res) => setTimeout(res, 300));
    expect(seen).toEqual([]);
  });
});
