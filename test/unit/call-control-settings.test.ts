// The desktop's own Call Control settings (issue 18): the schema and the machine policy refuse a PBX
// address that is not https (plain http only to loopback), a bad client ID or a relative key file, and
// the core's key file is written 0600, read back exactly, and refused when it does not hold one key.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyUserPatch, parsePolicy, resolveSettings } from '../../shared/policy';
import { applySettingsPatch, defaultSettings } from '../../shared/settings';
import { pbxUrlProblem } from '../../shared/pbx-url';
import { CALL_CONTROL_SECRET_FILE, clearCallControlSecret, hasSavedCallControlSecret, readCallControlSecret, saveCallControlSecret } from '../../main/core/config/call-control-secret';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'callpop-cc-settings-'));
  dirs.push(d);
  return d;
};

describe('Call Control settings', () => {
  it('accepts https, and http only to a loopback address', () => {
    for (const ok of ['https://pbx.example.com', 'https://pbx.example.com:5001/', 'http://127.0.0.1:5000', 'http://localhost:8080', 'http://[::1]:9000']) {
      expect(pbxUrlProblem(ok), ok).toBeNull();
      expect(applySettingsPatch(defaultSettings(), { callControlPbx: ok }).ok, ok).toBe(true);
    }
  });

  it('refuses plain http to another host, other schemes, paths, credentials and garbage, in words', () => {
    const cases: [string, RegExp][] = [
      ['http://pbx.example.com', /Use https:\/\//],
      ['http://127.0.0.1.evil.example', /Use https:\/\//],
      ['ftp://pbx.example.com', /starts with https:\/\//],
      ['https://pbx.example.com/callcontrol', /only the scheme, host and port/],
      ['https://user:pw@pbx.example.com', /no user name or password/],
      ['pbx.example.com', /Enter the PBX address/],
    ];
    for (const [bad, why] of cases) {
      const r = applySettingsPatch(defaultSettings(), { callControlPbx: bad });
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.errors.callControlPbx, bad).toMatch(why);
    }
    const id = applySettingsPatch(defaultSettings(), { callControlClientId: 'has space' });
    expect(id.ok).toBe(false);
    const file = applySettingsPatch(defaultSettings(), { callControlSecretFile: 'relative/key.txt' });
    expect(file.ok).toBe(false);
    if (!file.ok) expect(file.errors.callControlSecretFile).toMatch(/full path/);
  });

  it('the machine policy presets and locks the source and its keys, and refuses a bad PBX address naming the field', () => {
    const bad = parsePolicy({ locked: { source: 'call-control', callControlPbx: 'http://pbx.example.com' } });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toMatch(/locked\.callControlPbx/);

    const good = parsePolicy({
      locked: { source: 'call-control', callControlPbx: 'https://pbx.example.com', callControlClientId: 'callpop', callControlSecretFile: '/etc/callpop/cc-key' },
      defaults: { callControlCaFile: '/etc/callpop/pbx-ca.pem' },
    });
    expect(good.ok).toBe(true);
    if (!good.ok) return;
    const { settings, locked } = resolveSettings({ user: { source: 'listener', callControlPbx: 'https://other.example.com' }, policy: good.policy, loginName: 'anna' });
    expect(settings).toMatchObject({ source: 'call-control', callControlPbx: 'https://pbx.example.com', callControlClientId: 'callpop', callControlSecretFile: '/etc/callpop/cc-key', callControlCaFile: '/etc/callpop/pbx-ca.pem' });
    expect(Object.keys(locked).sort()).toEqual(['callControlClientId', 'callControlPbx', 'callControlSecretFile', 'source']);
    const change = applyUserPatch({ user: {}, policy: good.policy, loginName: 'anna', patch: { callControlSecretFile: '/home/anna/key' } });
    expect(change.ok).toBe(false);
  });

  it('there is no setting that could hold the key itself', () => {
    expect(Object.keys(defaultSettings()).filter((k) => k.startsWith('callControl'))).toEqual(['callControlPbx', 'callControlClientId', 'callControlCaFile', 'callControlSecretFile']);
    expect(applySettingsPatch(defaultSettings(), { callControlSecret: 'x' }).ok).toBe(false);
    expect(parsePolicy({ defaults: { callControlSecret: 'x' } }).ok).toBe(false);
  });
});

describe('the Call Control key file', () => {
  it('is written 0600 and read back exactly; clearing removes it', () => {
    const dir = tempDir();
    expect(readCallControlSecret({ callControlSecretFile: '' }, dir)).toEqual({ secret: null, problem: 'Enter the API key of the 3CX API client.' });
    saveCallControlSecret(dir, 'Ab3~x.y_z-KEY');
    const file = join(dir, CALL_CONTROL_SECRET_FILE);
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe('Ab3~x.y_z-KEY\n');
    expect(hasSavedCallControlSecret(dir)).toBe(true);
    expect(readCallControlSecret({ callControlSecretFile: '' }, dir)).toEqual({ secret: 'Ab3~x.y_z-KEY', problem: null });
    saveCallControlSecret(dir, 'second');
    expect(readCallControlSecret({ callControlSecretFile: '' }, dir).secret).toBe('second');
    clearCallControlSecret(dir);
    expect(hasSavedCallControlSecret(dir)).toBe(false);
  });

  it("IT's named file wins over the saved key; a missing or malformed one is a problem naming the file, never its content", () => {
    const dir = tempDir();
    saveCallControlSecret(dir, 'saved-key');
    const it = join(dir, 'it-key');
    writeFileSync(it, 'it-key-value\r\n');
    expect(readCallControlSecret({ callControlSecretFile: it }, dir)).toEqual({ secret: 'it-key-value', problem: null });
    writeFileSync(it, 'two words\n');
    const bad = readCallControlSecret({ callControlSecretFile: it }, dir);
    expect(bad.secret).toBeNull();
    expect(bad.problem).toContain(it);
    expect(bad.problem).not.toContain('two words');
    const gone = readCallControlSecret({ callControlSecretFile: join(dir, 'nope') }, dir);
    expect(gone.problem).toMatch(/Cannot read the API key file .*nope: no such file/);
  });
});
