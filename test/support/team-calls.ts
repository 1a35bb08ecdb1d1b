// 3CX WebAPI webhooks (POST scheme, as in the seed's flows) for the team's tests and bench: a queue
// call that rings some members and is missed or answered, a direct call, an outgoing call. Each call
// gets the id it is given ("261207100000_1"); legs are "-0" (ringing) and "-1" (talking), as 3CX sends.
import type { RawWebhook } from '../../shared/webhook/event';

const post = (fields: Record<string, string>): RawWebhook => ({ method: 'POST', query: '', body: JSON.stringify(fields), contentType: 'application/json' });

export interface QueueCallSteps {
  /** The ringing part: IVR, queue, each member's phone. */
  ring: RawWebhook[];
  /** Nobody took it (the queue's end, Missed). */
  missed: RawWebhook[];
  /** `by` picks up (started). */
  answer: (by: string) => RawWebhook[];
  /** The answered call ends after `sec` seconds. */
  end: (by: string, sec?: number) => RawWebhook[];
}

/** A call from `number` to queue `queue` (or, with queue null, straight to the first of `exts`). */
export function queueCall(id: string, number: string, queue: string | null, exts: readonly string[]): QueueCallSteps {
  const ring = [
    post({ Event: 'ringing', Callerid: number, User: '800', Usertype: 'other', Did: '', Id: `${id}-0` }),
    ...(queue ? [post({ Event: 'ringing', Callerid: number, User: queue, Usertype: 'queue', Did: '', Id: `${id}-0` })] : []),
    ...exts.map((e) => post({ Event: 'ringing', Callerid: number, User: e, Usertype: 'ext', Did: '', Id: `${id}-0` })),
  ];
  return {
    ring,
    missed: [post({ Event: 'incoming', Callerid: number, User: queue ?? exts[0]!, Finishtype: 'Missed', Transfer: 'False', Did: '', Duration: '', Id: `${id}-0` })],
    answer: (by) => [post({ Event: 'incomingcall_started', Callerid: number, User: by, Trtype: 'NotDef', Did: '', Id: `${id}-1` })],
    end: (by, sec = 5) => [post({ Event: 'incoming', Callerid: number, User: by, Finishtype: 'Ok', Transfer: 'False', Did: '', Duration: `00:${String(sec).padStart(2, '0')}`, Id: `${id}-1` })],
  };
}

/** `ext` dials `number`; answered or not. */
export function outgoingCall(id: string, ext: string, number: string, answered: boolean): RawWebhook[] {
  const dial = post({ Event: 'dialing', Callerid: number, User: ext, Id: `${id}-0` });
  if (!answered) return [dial, post({ Event: 'outgoing', Callerid: number, User: ext, Finishtype: 'Missed', Transfer: 'False', Did: '', Duration: '', Id: `${id}-0` })];
  return [
    dial,
    post({ Event: 'outgoingcall_started', Callerid: number, User: ext, Trtype: 'NotDef', Did: '', Id: `${id}-1` }),
    post({ Event: 'outgoing', Callerid: number, User: ext, Finishtype: 'Ok', Transfer: 'False', Did: '', Duration: '00:07', Id: `${id}-1` }),
  ];
}
