// `callpop hub agent …` as an administrator runs it (the BUILT command, real files): an existing name
// is refused unless --replace, `agent passwd` resets a password and keeps the rest, `agent set`
// changes extensions or the display name and keeps the password, a shared extension is said (and
// allowed); `agent list` on a folder that holds no hub says so.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAgents, verifyPassword } from '../../main/core/hub/accounts/agents';
import { callpop, cliBuilt } from '../support/built-cli';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'callpop-agents-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const hub = (...args: string[]) => callpop(['hub', ...args, '--data-dir', dir]);
const lastLine = (s: string): string => s.trim().split('\n').at(-1)!;

describe.skipIf(!cliBuilt)('callpop hub agent (built)', () => {
  it('refuses to add an existing name (one line, exit 1, nothing changed); --replace starts the agent over', async () => {
    const first = await hub('agent', 'add', 'anna', '--extension', '117', '--display-name', 'Anna Kaya');
    expect(first.code).toBe(0);
    const password = lastLine(first.out);
    const before = await readFile(join(dir, 'agents.json'), 'utf8');

    const again = await hub('agent', 'add', 'anna', '--extension', '120');
    expect(again.code).toBe(1);
    expect(again.out).toBe('');
    expect(again.err).toBe(
      'callpop hub: agent "anna" already exists (extension 117). Change it with "agent set anna", give a new password with "agent passwd anna", or add --replace to start over.\n',
    );
    expect(await readFile(join(dir, 'agents.json'), 'utf8')).toBe(before);

    const replaced = await hub('agent', 'add', 'anna', '--extension', '120', '--replace');
    expect(replaced.code).toBe(0);
    expect(replaced.out).toMatch(/^Replaced agent anna \(extension 120\)\. Password \(shown once\):\n[A-Za-z0-9_-]{24}\n$/);
    const [anna] = await readAgents(dir);
    expect(anna).toMatchObject({ extensions: ['120'], displayName: null });
    expect(await verifyPassword(password, anna!.passwordHash)).toBe(false);
  });

  it('agent passwd NAME: a new password (printed last, or from stdin), extensions and display name kept', async () => {
    const first = await hub('agent', 'add', 'anna', '--extension', '117', '--extension', '118', '--display-name', 'Anna Kaya');
    const old = lastLine(first.out);
    const r = await hub('agent', 'passwd', 'anna');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^New password for agent anna \(shown once; a running hub closes the old sessions\):\n[A-Za-z0-9_-]{24}\n$/);
    const fresh = lastLine(r.out);
    const [anna] = await readAgents(dir);
    expect(anna).toMatchObject({ name: 'anna', extensions: ['117', '118'], displayName: 'Anna Kaya' });
    expect(await verifyPassword(fresh, anna!.passwordHash)).toBe(true);
    expect(await verifyPassword(old, anna!.passwordHash)).toBe(false);

    const stdin = await callpop(['hub', 'agent', 'passwd', 'anna', '--password-stdin', '--data-dir', dir], { stdin: 'correct horse battery staple\n' });
    expect([stdin.code, stdin.out]).toEqual([0, 'New password for agent anna set from stdin; a running hub closes the old sessions.\n']);
    expect(await verifyPassword('correct horse battery staple', (await readAgents(dir))[0]!.passwordHash)).toBe(true);

    const nobody = await hub('agent', 'passwd', 'bob');
    expect([nobody.code, nobody.err]).toEqual([1, 'callpop hub: no agent named "bob". Add one with: callpop hub agent add bob --extension EXT\n']);
  });

  it('agent set NAME: changes extensions and/or display name, keeps the password', async () => {
    const password = lastLine((await hub('agent', 'add', 'anna', '--extension', '117')).out);
    const r = await hub('agent', 'set', 'anna', '--extension', '204', '--extension', '205', '--display-name', 'Anna K');
    expect([r.code, r.out, r.err]).toEqual([0, 'Changed agent anna: extensions 204, 205, display name "Anna K". The password is unchanged.\n', `No hub is running on ${dir}; it applies when the hub starts.\n`]);
    let [anna] = await readAgents(dir);
    expect(anna).toMatchObject({ extensions: ['204', '205'], displayName: 'Anna K' });
    expect(await verifyPassword(password, anna!.passwordHash)).toBe(true);

    expect((await hub('agent', 'set', 'anna', '--display-name', 'Anna Kaya')).code).toBe(0);
    [anna] = await readAgents(dir);
    expect(anna).toMatchObject({ extensions: ['204', '205'], displayName: 'Anna Kaya' });

    const nothing = await hub('agent', 'set', 'anna');
    expect(nothing.code).toBe(2);
    expect(nothing.err.split('\n')[0]).toBe('callpop hub: agent set needs --extension EXT (one or more) and/or --display-name TEXT.');
  });

  it('says when an extension is already another agent\'s, and allows it', async () => {
    await hub('agent', 'add', 'anna', '--extension', '117');
    const dave = await hub('agent', 'add', 'dave', '--extension', '117', '--extension', '300');
    expect(dave.code).toBe(0);
    expect(dave.err).toBe('callpop hub: note: extension 117 is also anna\'s; both agents will see its calls.\n');
    expect(await readAgents(dir)).toHaveLength(2);
    const set = await hub('agent', 'set', 'anna', '--extension', '300');
    expect(set.err.split('\n')[0]).toBe('callpop hub: note: extension 300 is also dave\'s; both agents will see its calls.');
  });

  it('agent list on a folder that holds no hub says so (exit 1); on a hub with no agents, "No agents yet" (exit 0)', async () => {
    const typo = await callpop(['hub', 'agent', 'list', '--data-dir', join(dir, 'typo')]);
    expect([typo.code, typo.out]).toEqual([1, '']);
    expect(typo.err).toBe(`callpop hub: ${join(dir, 'typo')} holds no hub (no agents.json or hub.json). Check --data-dir, or add the first agent with: callpop hub agent add NAME --extension EXT --data-dir ${join(dir, 'typo')}\n`);
    await mkdir(join(dir, 'empty'));
    expect((await callpop(['hub', 'agent', 'list', '--data-dir', join(dir, 'empty')])).code).toBe(1);
    await hub('agent', 'add', 'anna', '--extension', '117');
    await hub('agent', 'remove', 'anna');
    const none = await hub('agent', 'list');
    expect([none.code, none.out]).toEqual([0, 'No agents yet. Add one with: callpop hub agent add NAME --extension EXT\n']);
  });

  it('with Mosquitto (mosquitto-files ran), each change says to regenerate its files and reload it', async () => {
    await hub('agent', 'add', 'anna', '--extension', '117');
    expect((await hub('mosquitto-files', '--out', join(dir, 'mosq'), '--owner', String(process.getuid?.() ?? 0))).code).toBe(0);
    const note = 'callpop hub: note: with Mosquitto, run "callpop hub mosquitto-files" again and reload Mosquitto (SIGHUP) for this change to reach it.\n';
    for (const args of [['agent', 'add', 'ben', '--extension', '204'], ['agent', 'set', 'anna', '--display-name', 'Anna'], ['agent', 'passwd', 'anna']]) {
      const r = await hub(...args);
      // A change of an existing agent also says whether a running hub applied it (none runs here).
      const applied = args[1] === 'add' ? '' : `No hub is running on ${dir}; it applies when the hub starts.\n`;
      expect([args.join(' '), r.code, r.err]).toEqual([args.join(' '), 0, note + applied]);
    }
  });
});
