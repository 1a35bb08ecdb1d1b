// The second password hash (#16 4.6): agents.json keeps Mosquitto's PBKDF2 hash only in a folder set
// up for Mosquitto (`callpop hub mosquitto-files`), so without Mosquitto a stolen agents.json is no
// cheaper to attack than scrypt; hashes left by older versions are dropped when the embedded hub starts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addAgent, agentsFilePath, mosquittoHash, readAgents } from '../../main/core/hub/accounts/agents';
import { writeMosquittoFiles } from '../../main/core/hub/broker/mosquitto-files';
import { HubHarness } from './hub-helpers';

const h = new HubHarness();
let outDir = '';
beforeEach(async () => {
  await h.init();
  outDir = await mkdtemp(join(tmpdir(), 'callpop-second-hash-'));
});
afterEach(async () => {
  await h.cleanup();
  await rm(outDir, { recursive: true, force: true });
});

describe('the second password hash', () => {
  it('is not kept without Mosquitto; mosquitto-files sets the folder up, names the agents it cannot write yet, and new passwords get one', async () => {
    const first = await addAgent(h.dataDir, { name: 'anna', extensions: ['117'] });
    expect(await readFile(agentsFilePath(h.dataDir), 'utf8')).not.toContain('$7$');
    const files = await writeMosquittoFiles(h.dataDir, outDir, 'default');
    expect(files.withoutMosquittoPassword).toEqual(['anna']);
    expect(await readFile(files.passwordFile, 'utf8')).not.toMatch(/^anna:/m);
    // A new password from now on carries the Mosquitto hash (10,000 iterations, chosen by measuring).
    await addAgent(h.dataDir, { name: 'anna', extensions: ['117'], password: first.password, replace: true });
    const again = await writeMosquittoFiles(h.dataDir, outDir, 'default');
    expect(again.withoutMosquittoPassword).toEqual([]);
    expect(await readFile(again.passwordFile, 'utf8')).toMatch(/^anna:\$7\$10000\$/m);
  });

  it('drops Mosquitto hashes an older version left in a folder not set up for Mosquitto when the embedded hub starts', async () => {
    await addAgent(h.dataDir, { name: 'anna', extensions: ['117'], replace: true });
    const file = JSON.parse(await readFile(agentsFilePath(h.dataDir), 'utf8')) as { agents: Record<string, unknown>[] };
    file.agents[0]!.mosquittoHash = mosquittoHash('an-old-password', 101);
    await writeFile(agentsFilePath(h.dataDir), JSON.stringify(file));
    await h.start();
    expect((await readAgents(h.dataDir))[0]!.mosquittoHash).toBeNull();
    expect(await readFile(agentsFilePath(h.dataDir), 'utf8')).not.toContain('$7$');
    expect(h.logs.some((l) => /Dropped the Mosquitto password hashes of 1 agent/.test(l))).toBe(true);
  });
});
