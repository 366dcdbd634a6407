// Verification of a TLS client's certificate chain against CAs that may change while the server runs (the
// cluster's client CA and request-header CA, re-read from a ConfigMap). Node fixes a TLS server's `ca` when
// it starts, so the server asks for a certificate without verifying it, and each authenticator verifies the
// chain against its own roots here, as kube's x509 verifier does per authenticator.
import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';

/** Longer chains are refused rather than followed (kube's verifier has no fixed bound; ours does). */
const MAX_CHAIN = 8;

/** The CA certificates of a PEM bundle; a bundle without any is an error naming `source`. */
export function parseCertificates(pem: string, source: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (!blocks.length) throw new Error(`${source}: no PEM certificate in it`);
  return blocks.map((block) => new X509Certificate(block));
}

function current(cert: X509Certificate, now: number): boolean {
  return Date.parse(cert.validFrom) <= now && now <= Date.parse(cert.validTo);
}

function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return issuer.ca && cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

/** The client's certificate when it chains, through the intermediates it sent, to one of `roots` and every
 * certificate on the way is within its validity; undefined otherwise, or when the client sent none. */
export function verifiedPeer(
  socket: TLSSocket,
  roots: readonly X509Certificate[],
  now = Date.now(),
): DetailedPeerCertificate | undefined {
  if (!roots.length || typeof socket.getPeerCertificate !== 'function') return undefined;
  const leaf = socket.getPeerCertificate(true);
  if (!leaf?.raw) return undefined;
  let link: DetailedPeerCertificate = leaf;
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    const cert = new X509Certificate(link.raw);
    if (!current(cert, now)) return undefined;
    if (roots.some((root) => current(root, now) && signedBy(cert, root))) return leaf;
    const next = link.issuerCertificate;
    // The end of the chain the client sent: a self-signed certificate is its own issuer.
    if (!next?.raw || next.raw.equals(link.raw)) return undefined;
    if (!signedBy(cert, new X509Certificate(next.raw))) return undefined;
    link = next;
  }
  return undefined;
}
