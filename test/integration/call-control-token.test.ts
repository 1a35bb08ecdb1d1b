// The Call Control token owned by one process (main/core/call-control/token.ts) against the fake
// 3CX token endpoint on loopback: fetched once and shared, refreshed before it expires (never used
// expired), 30 minutes assumed when the PBX says nothing (before 20.0.9), dropped on a 401, and a
// refused secret reported without the secret.
import { afterEach, describe, expect, it } from 'vitest';
import { TokenRefusedError, tokenOwner } from '../../main/core/call-control/token';
import { startFakeCallControl, type FakeCallControl } from '../support/fake-3cx-call-control';

let fake: FakeCallControl | null = null;
afterEach(async () => {
  await fake?.close();
  fake = null;
});

describe('the Call Control token', () => {
  it('one fetch for concurrent users; refreshed with a fifth of its life left, not after it expired', async () => {
    let now = 1_000_000;
    fake = await startFakeCallControl({ clients: { callpop: 'sec-1' }, dns: {}, tokenTtlSec: 100, now: () => now });
    const t = tokenOwner({ base: new URL(fake.url), clientId: 'callpop', clientSecret: 'sec-1', now: () => now });
    const [a, b] = await Promise.all([t.get(), t.get()]);
    expect(a).toBe(b);
    expect(fake.tokensIssued).toBe(1);
    now += 79_000;
    expect(await t.get()).toBe(a);
    now += 2_000; // 81 s of 100: refresh now, while the old one still works
    const c = await t.get();
    expect(c).not.toBe(a);
    expect(fake.tokensIssued).toBe(2);
    t.invalidate(c);
    expect(await t.get()).not.toBe(c);
    expect(fake.tokensIssued).toBe(3);
  });

  it('without expires_in (before 20.0.9) it assumes 30 minutes', async () => {
    let now = 0;
    fake = await startFakeCallControl({ clients: { callpop: 'sec-2' }, dns: {}, omitExpiresIn: true, now: () => now });
    const t = tokenOwner({ base: new URL(fake.url), clientId: 'callpop', clientSecret: 'sec-2', now: () => now });
    const a = await t.get();
    expect(t.expiresAt).toBe(1_740_000);
    now = 1_739_999;
    expect(await t.get()).toBe(a);
    now = 1_740_000;
    expect(await t.get()).not.toBe(a);
  });

  it('a refused secret is a TokenRefusedError naming the client, never the secret', async () => {
    fake = await startFakeCallControl({ clients: { callpop: 'right' }, dns: {} });
    const t = tokenOwner({ base: new URL(fake.url), clientId: 'callpop', clientSecret: 'wrong-s3cret', now: Date.now });
    const e = (await t.get().then(() => new Error('no error'), (x: unknown) => x)) as Error;
    expect(e).toBeInstanceOf(TokenRefusedError);
    expect(e.message).toContain('"callpop"');
    expect(e.message).not.toContain('wrong-s3cret');
  });
});
