// What every handler table of the core backend (../create-core-backend.ts) works on: the call source,
// the stores, the downloads, and the few helpers more than one domain needs (a record as the UI sees
// it, marking calls seen). One table per domain sits beside this file; a new core channel goes in its
// domain's table, and the compiler says when a channel of shared/ipc/contract.ts has none.
import type { CallRecord } from '../../../../shared/call-record';
import type { Logger } from '../../../../shared/diagnostics-log';
import type { CallView, CoreChannel, InvokeArgs, InvokeResult } from '../../../../shared/ipc/contract';
import type { NotesStore } from '../../call-log/notes';
import type { ContactsStore } from '../../contacts/store';
import type { DownloadManager } from '../../download/manager';
import type { TestCallPacing } from '../../listener/test-call';
import type { CallSource } from '../call-source';
import type { Push } from '../core-backend';

export interface CoreContext {
  source: CallSource;
  contacts: ContactsStore;
  notes: NotesStore;
  downloads: DownloadManager;
  logger: Logger;
  push: Push;
  testCallPacing?: TestCallPacing;
  /** A record as the UI shows it: contact, queue/DID and colleague names, note (./call-views.ts). */
  view(record: CallRecord): CallView;
  /** The log's search by words: calls whose note has them, and calls through a queue or DID so named. */
  idsForText(text: string): Set<string>;
  /** An open call, else a logged one. */
  findCall(callId: string): CallRecord | null;
  /** Pushes the log's new unseen-missed count. */
  logChanged(): void;
  /** Marks calls seen and pushes each as updated: the popup closes settled missed cards (settle-missed.ts). */
  settle(records: readonly CallRecord[]): Promise<void>;
}

type Handler<C extends CoreChannel> = (args: InvokeArgs<C>) => Promise<InvokeResult<C>> | InvokeResult<C>;

/** The handlers of every core channel named `${prefix}:…`. */
export type HandlersOf<P extends string> = { [C in Extract<CoreChannel, `${P}:${string}`>]: Handler<C> };

/** Every core channel's handler. */
export type Handlers = { [C in CoreChannel]: Handler<C> };
