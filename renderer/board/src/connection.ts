// The board's one connection: MQTT over WebSocket to the hub's board port (path /mqtt, same origin),
// logged in as a supervisor. The hub's broker checks the password (CONNACK 4/5 = refused) and whether
// the login may read the board (a refused subscription = not a supervisor); both are told in words.
// Everything received is checked with the protocol's schemas (untrusted until parsed).
import mqtt, { type MqttClient } from 'mqtt';
import { agentClientId, decodePayload } from '../../../shared/hub-protocol';
import { callbacksMessageSchema, decodeBoardMessage, teamTopics, type BoardMessage, type CallbacksMessage } from '../../../shared/team-protocol';

export type ConnectionState = 'connecting' | 'online' | 'reconnecting' | 'closed';

export interface BoardHandlers {
  board(m: BoardMessage): void;
  callbacks(m: CallbacksMessage): void;
  state(s: ConnectionState): void;
}

export interface BoardConnection {
  close(): void;
}

/** The site the hub serves, from the board server (so the page needs no setting). */
export async function boardSite(): Promise<string> {
  try {
    const r = await fetch('./board-config.json', { cache: 'no-store' });
    const json = (await r.json()) as { site?: unknown };
    if (typeof json.site === 'string') return json.site;
  } catch {
    /* the default below */
  }
  return 'default';
}

export class LoginRefused extends Error {}

const wsUrl = (): string => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/mqtt`;

/** Logs in; resolves once the board is subscribed, rejects with LoginRefused and a sentence when refused. */
export function connectBoard(site: string, name: string, password: string, on: BoardHandlers): Promise<BoardConnection> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let lastBoard: BoardMessage | null = null;
    // The hub takes only a client id of the agent's own (bound at CONNECT): one a name cannot have is
    // a name no hub has.
    let clientId: string;
    try {
      clientId = agentClientId(name);
    } catch {
      reject(new LoginRefused('Wrong name or password.'));
      return;
    }
    const client: MqttClient = mqtt.connect(wsUrl(), {
      username: name,
      password,
      protocolVersion: 4,
      clean: true,
      clientId,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      keepalive: 30,
    });
    const fail = (message: string): void => {
      if (settled) return;
      settled = true;
      client.end(true);
      reject(new LoginRefused(message));
    };
    client.on('error', (e: Error & { code?: number }) => {
      if (e.code === 4 || e.code === 5) fail('Wrong name or password.');
      else if (e.code === 3) fail('The hub is busy; try again in a moment.');
      else if (!settled) fail(`Cannot reach the hub (${e.message}).`);
    });
    client.on('close', () => {
      if (!settled) fail('Cannot reach the hub: the connection closed.');
      else on.state(client.options.reconnectPeriod ? 'reconnecting' : 'closed');
    });
    client.on('message', (topic, payload) => {
      if (topic === teamTopics.board(site)) {
        // With the measure in BoardApp: how long one board message takes to reach the DOM (bench/board.ts).
        performance.mark('board-message');
        // Agents unchanged since the last message are checked once and stay the same objects.
        const m = decodeBoardMessage(payload, lastBoard);
        if (m.ok) on.board((lastBoard = m.value));
      } else if (topic === teamTopics.allCallbacks(site)) {
        const m = decodePayload(callbacksMessageSchema, payload);
        if (m.ok) on.callbacks(m.value);
      }
    });
    client.on('connect', () => {
      client.subscribe([teamTopics.board(site), teamTopics.allCallbacks(site)], { qos: 1 }, (err, granted) => {
        if (err || !granted || granted.some((g) => g.qos >= 128)) {
          if (settled) return on.state('closed');
          return fail(`${name} is not a supervisor, so the board stays closed. An administrator can give the role with: callpop hub agent add ${name} --role supervisor …`);
        }
        on.state('online');
        if (settled) return;
        settled = true;
        // From now on a lost connection is retried (the wall display keeps itself up).
        client.options.reconnectPeriod = 3000;
        resolve({ close: () => client.end(true) });
      });
    });
  });
}
