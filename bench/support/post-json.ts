// One webhook POST from a bench's load generator: JSON on a keep-alive agent, resolves with the status.
import { request, type Agent } from 'node:http';

export function postJson(url: URL, body: string, agent: Agent, timeoutMs?: number): Promise<number> {
  return new Promise((ok, fail) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => ok(res.statusCode ?? 0));
    });
    if (timeoutMs !== undefined) req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', fail);
    req.end(body);
  });
}
