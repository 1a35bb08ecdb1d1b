// The shapes 3CX's Call Control API sends, as zod schemas: everything the PBX returns is untrusted,
// so each answer is checked and bounded here before anything else reads it.
//
// Sources for every shape (read 2026-12-07):
// - participant fields: the live captures quoted in qmexnetworks/3cx-zammad-bridge
//   `bridge_3cx_post20.go` (FetchCalls comment: a "Dialing" and a "Ringing" participant with every
//   field: id, status, dn, party_caller_name, party_dn, party_caller_id, party_did, device_id,
//   party_dn_type, direct_control, originated_by_dn/_type, referred_by_dn/_type,
//   on_behalf_of_dn/_type, callid, legid) and 3cx/call-control-examples `server/src/types.ts`
//   (CallParticipant, DNInfo, DNDevice: every field optional / nullable there).
// - GET /callcontrol: an array of DNInfo `{dn, type, devices, participants}` (types.ts DNInfo;
//   bridge_3cx_post20.go CallControlResponse).
// - WebSocket event `{sequence, event: {event_type, entity, attached_data}}`: types.ts WSEvent and
//   bridge_3cx_post20.go WebsocketResponse; event_type 0 upsert, 1 remove, 2 DTMF, 4 response
//   (types.ts EventType; 3CX's call-control-api page as quoted by GlomarGadaffi/pocket-dial
//   docs/3cxAPI+Webhooks.md).
// - POST /connect/token answer `{access_token, expires_in, token_type}`: ExternalApi.service.ts reads
//   `access_token`; `expires_in` (seconds, since 20.0.9) per issue #18's reading of 3CX's docs.
// Not confirmed without a real PBX: whether absent fields come as "" or null (both are accepted),
// the spelling of every *_type value beyond those captured (Wextension, Wexternalline, Wroutepoint, None).
import { z } from 'zod';

/** Bounds: a DN or number is short; a name is a display string; ids are 32-bit counters. */
const dnText = z.string().max(64);
const shortText = z.string().max(256);
/** "" and null both mean "not given"; absent too. */
const opt = (s: z.ZodString) => s.nullish().transform((v) => v ?? '');

export const participantStatuses = ['Dialing', 'Ringing', 'Connected'] as const;

export const participantSchema = z.object({
  id: z.number().int().nonnegative().max(2 ** 31),
  /** Unknown statuses are kept as text and ignored by the translation (a newer PBX may add some). */
  status: z.string().max(32),
  dn: dnText.min(1),
  party_caller_name: opt(shortText),
  party_dn: opt(dnText),
  party_caller_id: opt(shortText),
  party_did: opt(shortText),
  device_id: opt(z.string().max(512)),
  party_dn_type: opt(dnText),
  direct_control: z.boolean().nullish().transform((v) => v ?? false),
  originated_by_dn: opt(dnText),
  originated_by_type: opt(dnText),
  referred_by_dn: opt(dnText),
  referred_by_type: opt(dnText),
  on_behalf_of_dn: opt(dnText),
  on_behalf_of_type: opt(dnText),
  callid: z.number().int().nonnegative().max(2 ** 53),
  legid: z.number().int().nonnegative().max(2 ** 31).nullish().transform((v) => v ?? 0),
});
export type Participant = z.output<typeof participantSchema>;
/** A participant as the PBX sends it (the fake server builds these). */
export type ParticipantWire = z.input<typeof participantSchema>;

export const deviceSchema = z.object({
  dn: dnText.nullish(),
  device_id: z.string().max(512).nullish(),
  user_agent: z.string().max(512).nullish(),
});

/** Bounds on one snapshot: a large PBX has thousands of DNs, each with a few calls. */
export const MAX_DNS = 20_000;
export const MAX_PARTICIPANTS_PER_DN = 256;

export const dnInfoSchema = z.object({
  dn: dnText.min(1),
  type: dnText.nullish(),
  devices: z.array(deviceSchema).max(64).nullish(),
  participants: z.array(participantSchema).max(MAX_PARTICIPANTS_PER_DN).nullish(),
});
export type DnInfo = z.output<typeof dnInfoSchema>;

export const snapshotSchema = z.array(dnInfoSchema).max(MAX_DNS);

/** The snapshot's outline: each DN and participant is then checked on its own (see parseSnapshot). */
const looseSnapshot = z
  .array(z.object({ dn: dnText.min(1), type: dnText.nullish(), participants: z.array(z.unknown()).max(MAX_PARTICIPANTS_PER_DN).nullish() }))
  .max(MAX_DNS);

/**
 * GET /callcontrol, one bad entry at a time: a participant of an unexpected shape is dropped (and
 * counted) rather than failing the whole snapshot, so one broken call cannot keep every agent's calls out.
 * null when even the outline (an array of DNs) is wrong.
 */
export function parseSnapshot(json: unknown): { dns: DnInfo[]; dropped: number } | null {
  const outline = looseSnapshot.safeParse(json);
  if (!outline.success) return null;
  let dropped = 0;
  const dns = outline.data.map((d): DnInfo => {
    const participants: Participant[] = [];
    for (const raw of d.participants ?? []) {
      const p = participantSchema.safeParse(raw);
      if (p.success && p.data.dn === d.dn) participants.push(p.data);
      else dropped++;
    }
    return { dn: d.dn, type: d.type, participants };
  });
  return { dns, dropped };
}

export const wsEventSchema = z.object({
  sequence: z.number().int(),
  event: z.object({
    event_type: z.number().int(),
    entity: z.string().max(512),
    attached_data: z.unknown().optional(),
  }),
});
export type WsEvent = z.output<typeof wsEventSchema>;
export const EVENT_UPSERT = 0;
export const EVENT_REMOVE = 1;

export const tokenSchema = z.object({
  access_token: z.string().min(1).max(8192),
  /** Seconds; absent before 20.0.9: then assume the examples' 30 min cache (Cache.service.ts TTL_ACCESS_TOKEN). */
  expires_in: z.number().positive().max(366 * 86_400).optional(),
  token_type: z.string().max(32).optional(),
});

/** "/callcontrol/150/participants/8106" → { dn: "150", id: 8106 }; null for any other entity. */
export function participantEntity(entity: string): { dn: string; id: number } | null {
  const m = /^\/callcontrol\/([A-Za-z0-9_.*#+-]{1,64})\/participants\/(\d{1,10})$/.exec(entity);
  return m ? { dn: m[1] as string, id: Number(m[2]) } : null;
}
