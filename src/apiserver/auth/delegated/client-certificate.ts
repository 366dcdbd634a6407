// Client certificates in delegated mode: verified against the cluster's client CA as it is now (the
// ConfigMap's client-ca-file or --client-ca-file), then read as standalone reads them (../x509.ts).
import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { Authenticator } from '../auth.ts';
import { certificateUser } from '../x509.ts';
import { verifiedPeer } from './peer-certificate.ts';

export function verifiedClientCertificate(roots: () => readonly X509Certificate[]): Authenticator {
  return {
    async authenticate(req) {
      const cert = verifiedPeer(req.socket as TLSSocket, roots());
      return cert && certificateUser(cert);
    },
  };
}
