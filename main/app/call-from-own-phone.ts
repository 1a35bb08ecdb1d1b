// Call back from the agent's own phone (issue 18 §2): when the source of calls can place a call for the
// agent (the core's `calls:actions` lists "call": a hub on 3CX Call Control makes the PBX ring the
// agent's phone, then dial; a hub with the WebAPI add-on's key uses its MakeCall), Call back asks the
// core for that instead of opening tel:. null = the source cannot (or the number is not dialable):
// the caller opens tel: as before. A refusal comes back in words and is not retried.
import type { ActionResult, CallActionName, CoreChannel } from '../../shared/ipc/contract';

export async function callFromOwnPhone(core: (channel: CoreChannel, args: unknown) => Promise<unknown>, number: string): Promise<ActionResult | null> {
  const destination = number.replace(/[\s().-]/g, '');
  if (!/^\+?[0-9*#]{1,32}$/.test(destination)) return null;
  let actions: CallActionName[];
  try {
    actions = (await core('calls:actions', {})) as CallActionName[];
  } catch {
    return null;
  }
  if (!Array.isArray(actions) || !actions.includes('call')) return null;
  return (await core('calls:act', { action: 'call', destination })) as ActionResult;
}
