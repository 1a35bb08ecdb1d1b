// What the core backend pushed to the windows, in order, for tests: `push` is the backend's push
// callback, `waitFor` resolves with the first push (past or future) that matches.
import type { PushChannel, PushMap } from '../../shared/ipc/contract';

export type Pushed = { [P in PushChannel]: { channel: P; payload: PushMap[P] } }[PushChannel];

export class PushRecorder {
  readonly pushes: Pushed[] = [];
  private waiters: (() => void)[] = [];

  constructor(private readonly timeoutMs = 10_000) {}

  readonly push = (channel: PushChannel, payload: unknown): void => {
    this.pushes.push({ channel, payload } as Pushed);
    for (const w of this.waiters.splice(0)) w();
  };

  waitFor<P extends PushChannel>(channel: P, test: (p: PushMap[P]) => boolean = () => true): Promise<PushMap[P]> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${channel} push matched; got ${JSON.stringify(this.pushes)}`)), this.timeoutMs);
      const check = (): void => {
        const hit = this.pushes.find((p) => p.channel === channel && test(p.payload as PushMap[P]));
        if (hit) {
          clearTimeout(timer);
          resolve(hit.payload as PushMap[P]);
        } else this.waiters.push(check);
      };
      check();
    });
  }
}
