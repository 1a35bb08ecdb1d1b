// The 3CX PBX address for the Call Control source as Settings and the machine policy take it: https://
// (the API key and every caller's number cross it), plain http:// only to this machine's loopback (a
// test PBX or a local proxy), scheme + host + port only. Pure, so the renderer checks it while typing
// with the same words main and the core use.

/** localhost, 127.0.0.0/8 and ::1, as URL.hostname gives them. */
export function isLoopbackHostname(host: string): boolean {
  if (host === 'localhost' || host === '[::1]' || host === '::1') return true;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return m !== null && m[1] === '127' && m.slice(2).every((o) => Number(o) <= 255);
}

/** Why this is not a usable PBX address, in Settings' words; null when it is one. */
export function pbxUrlProblem(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'Enter the PBX address, e.g. https://pbx.example.com.';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'The PBX address starts with https://.';
  if (url.hostname === '') return 'The PBX address needs a host name.';
  if (url.protocol === 'http:' && !isLoopbackHostname(url.hostname)) return 'Use https:// (plain http:// only for this computer: 127.0.0.1, ::1, localhost).';
  if (url.username !== '' || url.password !== '') return 'Put no user name or password in the address.';
  if (url.search !== '' || url.hash !== '' || (url.pathname !== '/' && url.pathname !== '')) return 'Give only the scheme, host and port, e.g. https://pbx.example.com:5001.';
  return null;
}
