// The Node options the hub runs with: deploy/callpop-hub.service and the Dockerfile set them as
// NODE_OPTIONS, and the benches start their hub with them (V8 sizes its heap before any of our code
// runs, so they cannot be set from here).
//
// --max-semi-space-size=64 (MB; V8's default is 16): a claim or a call change fans out to every member,
// 1,000 socket writes whose buffers and packets live until the writes finish. With the default young
// generation a scavenge came every few fan-outs and promoted what was in flight, and the old generation's
// mark-compacts that followed were the slowest claims (`callback-claim-roundtrip` p99 50–72 ms; 32–38
// with this, bench/board.ts, 1,000 agents). It costs up to 3 × 64 MB more while busy.
export const HUB_NODE_OPTIONS = '--max-semi-space-size=64';
