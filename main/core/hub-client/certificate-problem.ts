// A TLS certificate this machine does not trust, said in one line with what to do: the agent's
// `serve --hub` (--hub-ca, --hub-fingerprint) and the hub towards an external broker (--broker-ca)
// meet the same Node error codes, and an administrator needs the same words for them.

/** Node's and the pin's codes for "this certificate is not trusted", each with the words an administrator acts on. */
const certificateCodes: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'it is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'it is signed by a CA this machine does not trust',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'it is signed by a CA this machine does not trust',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'it is signed by a CA this machine does not trust',
  UNABLE_TO_GET_ISSUER_CERT: 'it is signed by a CA this machine does not trust',
  CERT_HAS_EXPIRED: 'it has expired',
  CERT_NOT_YET_VALID: 'it is not valid yet (check both clocks)',
  ERR_TLS_CERT_ALTNAME_INVALID: 'it is not made out to this host name',
  ERR_CERT_PIN_MISMATCH: 'it is not the pinned one',
};

/**
 * One line for a certificate error with what to do, or null when `e` is not one. `what` names the
 * certificate ("the hub's certificate at mqtts://…"), `flags` the options that trust it.
 */
export function certificateProblem(e: Error & { code?: unknown }, what: string, flags: { ca: string; pin?: string }): string | null {
  const why = typeof e.code === 'string' ? certificateCodes[e.code] : undefined;
  if (!why) return null;
  const fix =
    e.code === 'ERR_CERT_PIN_MISMATCH'
      ? 'If the server got a new certificate, pin the new one (openssl x509 -in cert.pem -noout -fingerprint -sha256 on the server).'
      : e.code === 'ERR_TLS_CERT_ALTNAME_INVALID'
        ? `Use the host name the certificate names in the URL${flags.pin ? `, or pin the certificate with ${flags.pin.split(' ')[0]}` : ''}.`
        : e.code === 'CERT_HAS_EXPIRED' || e.code === 'CERT_NOT_YET_VALID'
          ? 'Renew the certificate (the hub picks up a renewed one without a restart).'
          : `Trust its CA with ${flags.ca} (PEM)${flags.pin ? `, or pin it with ${flags.pin} (openssl x509 -in cert.pem -noout -fingerprint -sha256 on the server)` : ''}.`;
  return `${what} is not trusted: ${why} (${e.code}). ${fix}`;
}
