// What the call log is asked and keeps beside its records, as the storage (main/core/call-log/) and
// every reader of it (the app's IPC contract, the CLI) share it: the filter of a query and the note
// length. Domain types live here, not in shared/ipc/, so storage never depends on the UI contract.
import type { Direction } from './call-record';
import type { ResultFilter } from './call-outcome';

export interface LogFilter {
  direction?: Direction | undefined;
  /** "missed" = incoming calls nobody took; "not-answered" = own outgoing calls (shared/call-outcome.ts). */
  result?: ResultFilter | undefined;
  /** ISO dates, inclusive; `to` may be a date ("2026-11-24") meaning the whole day. */
  from?: string | undefined;
  to?: string | undefined;
  /** Digits in any format, or part of a contact name. */
  text?: string | undefined;
  unseenOnly?: boolean | undefined;
}

/** A short note per call: its longest text. */
export const noteMaxLength = 500;
