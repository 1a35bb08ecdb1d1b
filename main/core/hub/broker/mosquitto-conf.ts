// The mosquitto.conf that `callpop hub mosquitto-files` writes beside password_file and acl_file: the
// listeners the hub's agents use (plain MQTT, MQTT over TLS, MQTT over WebSocket, with or without
// TLS), everyone logging in, and the limits that keep one client from exhausting the broker (issue
// #16). Every line carries its reason, so the file explains itself to the administrator who reads it;
// docs/deploy.md explains the same limits.

export interface MosquittoConfOptions {
  /** The folder the password_file and acl_file are in (absolute). */
  dir: string;
  site: string;
  /** Plain MQTT port (default 1883); null = none. With TLS it listens on loopback only (the hub on this machine). */
  port?: number | null;
  /** Address of the agents' listeners; default every address. */
  bind?: string | null;
  /** TLS for the agents: PEM files Mosquitto reads (as the `mosquitto` user). */
  tls?: { cert: string; key: string; ca?: string | null } | null;
  /** MQTT over TLS port (default 8883 when tls is given). */
  tlsPort?: number | null;
  /** MQTT over WebSocket (wss:// with tls) port; null = none. */
  wsPort?: number | null;
}

/** The limits, with what each bounds (also in docs/deploy.md, "Mosquitto"). */
export const mosquittoLimits: readonly { key: string; value: string; why: string }[] = [
  {
    key: 'max_packet_size',
    value: String(4 * 1024 * 1024),
    why: "Largest packet Mosquitto takes from any client (bytes); bigger ones cut the connection. Agents send < 1 KiB; the hub's sync answers (500 calls) stay far below 4 MiB, which bounds what one client can make the broker buffer.",
  },
  {
    key: 'max_inflight_messages',
    value: '20',
    why: 'QoS 1 messages in flight to one client before Mosquitto waits for its acknowledgements: a slow or stalled agent is not sent more than this at a time.',
  },
  {
    key: 'max_queued_messages',
    value: '1000',
    why: "Messages kept for one client beyond those in flight (an agent that is offline with a persistent session): the oldest are dropped beyond this. Nothing is lost: the agent asks the hub for what it missed (sync) when it reconnects.",
  },
  {
    key: 'persistent_client_expiration',
    value: '14d',
    why: "A persistent session (and its queue) of a client that has not connected for 14 days is removed: a PC that was replaced does not keep a queue forever. A PC back after longer catches up through the hub's sync.",
  },
];

export function mosquittoConf(o: MosquittoConfOptions): string {
  const tls = o.tls ?? null;
  const port = o.port === undefined ? 1883 : o.port;
  const tlsPort = tls ? (o.tlsPort ?? 8883) : null;
  const bind = o.bind ? ` ${o.bind}` : '';
  const tlsLines = (t: NonNullable<MosquittoConfOptions['tls']>): string[] => [
    `certfile ${t.cert}`,
    `keyfile ${t.key}`,
    ...(t.ca ? [`cafile ${t.ca}`] : []),
    '# TLS 1.2 or newer only.',
    'tls_version tlsv1.2',
  ];
  const lines = [
    `# Mosquitto for the Callpop hub (site "${o.site}"), written by \`callpop hub mosquitto-files\`.`,
    `# Standalone: mosquitto -c ${o.dir}/mosquitto.conf`,
    `# With Debian's service: sudo ln -s ${o.dir}/mosquitto.conf /etc/mosquitto/conf.d/callpop.conf && sudo systemctl restart mosquitto`,
    '# (Debian\'s /etc/mosquitto/mosquitto.conf already sets persistence and the log; add nothing else there.)',
    '# After adding, changing or removing agents: run mosquitto-files again, then reload Mosquitto (SIGHUP).',
    '',
    '# The same rules for every listener below.',
    'per_listener_settings false',
    '# Everyone logs in: agents with their agent password, the hub as callpop-hub. No anonymous clients.',
    'allow_anonymous false',
    `password_file ${o.dir}/password_file`,
    '# What each user may read and write: an agent only its own extensions\' calls.',
    `acl_file ${o.dir}/acl_file`,
    '',
  ];
  if (port !== null) {
    if (tls) lines.push(`# Plain MQTT on loopback only, for the hub on this machine (--broker mqtt://127.0.0.1:${port}); agents use TLS.`, `listener ${port} 127.0.0.1`);
    else lines.push('# Plain MQTT for the agents (a LAN you trust; on the internet give --tls-cert/--tls-key).', `listener ${port}${bind}`);
    lines.push('');
  }
  if (tls && tlsPort !== null) lines.push('# MQTT over TLS for the agents (mqtts://).', `listener ${tlsPort}${bind}`, ...tlsLines(tls), '');
  if (o.wsPort !== null && o.wsPort !== undefined) {
    lines.push(`# MQTT over WebSocket for the agents (${tls ? 'wss' : 'ws'}://), where only web ports are open.`, `listener ${o.wsPort}${bind}`, 'protocol websockets', ...(tls ? tlsLines(tls) : []), '');
  }
  lines.push('# Limits (docs/deploy.md, "Mosquitto" explains each).');
  for (const l of mosquittoLimits) lines.push(`# ${l.why}`, `${l.key} ${l.value}`);
  return `${lines.join('\n')}\n`;
}
