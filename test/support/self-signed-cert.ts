// A self-signed EC (P-256) certificate made by Debian's openssl, valid 2 days, for tests on loopback.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SelfSignedCert {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

/**
 * Writes `key.pem` and `cert.pem` (or `NAME-key.pem`, `NAME-cert.pem`) in `dir`. Subject CN `cn`;
 * subjectAltName `san` (none when null).
 */
export function selfSignedCert(dir: string, o: { name?: string; cn?: string; san?: string | null } = {}): SelfSignedCert {
  const prefix = o.name ? `${o.name}-` : '';
  const keyFile = join(dir, `${prefix}key.pem`);
  const certFile = join(dir, `${prefix}cert.pem`);
  const san = o.san === undefined ? 'IP:127.0.0.1' : o.san;
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', `/CN=${o.cn ?? 'callpop-test'}`, ...(san === null ? [] : ['-addext', `subjectAltName=${san}`])],
    { stdio: 'pipe' },
  );
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), certFile, keyFile };
}
