// kube's authentication/request/x509: a client certificate that chains to the --client-ca-file
// authenticates its subject, the common name as the user name and the organizations as groups.
// The TLS server verifies the chain (it asks for a certificate and accepts a connection without one,
// see server.ts); this module reads what the handshake established.
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { Authenticator, UserInfo } from './auth.ts';

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

const values = (field: string | string[] | undefined): string[] => (field === undefined ? [] : [field].flat());

/** The user a verified client certificate names; undefined for one without a common name or restricted to
 * other uses (as kube, extended key usage without clientAuth is no credential). */
export function certificateUser(cert: PeerCertificate): UserInfo | undefined {
  if (cert.ext_key_usage && !cert.ext_key_usage.includes(CLIENT_AUTH)) return undefined;
  const [name] = values(cert.subject?.CN);
  if (!name) return undefined;
  return { name, uid: '', groups: values(cert.subject.O) };
}

export const clientCertificate: Authenticator = {
  async authenticate(req) {
    const socket = req.socket as TLSSocket;
    // `authorized` is only set for a certificate that chains to the client CA.
    if (!socket.authorized || typeof socket.getPeerCertificate !== 'function') return undefined;
    return certificateUser(socket.getPeerCertificate());
  },
};
