// The node lists of `callpop hub --broker` (the hub's side of a broker cluster): comma lists and
// repeated flags give one list in order, each address checked like a single one.
import { describe, expect, it } from 'vitest';
import { brokerUrls } from '../../main/cli/hub';

describe('hub --broker node lists', () => {
  it('take comma lists and repeated flags, in order, trimmed', () => {
    expect(brokerUrls(['mqtt://n1:1883, mqtt://n2:1883', 'mqtts://n3:8883'])).toEqual(['mqtt://n1:1883', 'mqtt://n2:1883', 'mqtts://n3:8883']);
    expect(brokerUrls(['mqtt://n1:1883'])).toEqual(['mqtt://n1:1883']);
  });

  it('refuse a bad address anywhere in the list, credentials, an empty list and more than 16 nodes', () => {
    expect(() => brokerUrls(['mqtt://n1:1883,http://n2'])).toThrow('--broker must use mqtt://, mqtts://, ws:// or wss://, got "http:".');
    expect(() => brokerUrls(['mqtt://n1:1883', 'mqtt://u:p@n2:1883'])).toThrow(/must not contain a user or password/);
    expect(() => brokerUrls([' , '])).toThrow(/needs a URL/);
    expect(() => brokerUrls([Array.from({ length: 17 }, (_, i) => `mqtt://n${i}:1883`).join(',')])).toThrow(/at most 16/);
  });
});
