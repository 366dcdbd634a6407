// kube's front-proxy authenticator (k8s.io/apiserver/pkg/authentication/request/headerrequest): the user
// named in request headers (X-Remote-User, X-Remote-Group, X-Remote-Extra-*), trusted only from a client
// whose certificate chains to the request-header CA and, when allowed names are given, whose common name is
// one of them. A connection without that certificate gets nothing from its headers: a forged X-Remote-User
// authenticates no one. The configuration is read on every request, so a rotated CA applies at once.
import type { IncomingMessage } from 'node:http';
import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { Authenticator, UserInfo } from '../auth.ts';
import { certificateUser } from '../x509.ts';
import { verifiedPeer } from './peer-certificate.ts';

export interface RequestHeaderConfig {
  /** The CAs front-proxy client certificates chain to (--requestheader-client-ca-file). */
  roots: readonly X509Certificate[];
  /** Accepted common names of the front proxy's certificate; empty accepts any the CA signed. */
  allowedNames: readonly string[];
  /** Headers naming the user, the first present wins (kube's default: X-Remote-User). */
  usernameHeaders: readonly string[];
  /** Headers naming groups, every value of each (kube's default: X-Remote-Group). */
  groupHeaders: readonly string[];
  /** Prefixes of headers carrying extra attributes (kube's default: X-Remote-Extra-). */
  extraHeaderPrefixes: readonly string[];
}

/** An extra key as kube reads it from a header name: lower-cased, then percent-decoded (kube's
 * unescapeExtraKey); a bad escape is kept as sent. */
export function extraKey(encoded: string): string {
  try {
    return decodeURIComponent(encoded.toLowerCase());
  } catch {
    return encoded.toLowerCase();
  }
}

function userFromHeaders(req: IncomingMessage, config: RequestHeaderConfig): UserInfo | undefined {
  const headers = req.headersDistinct;
  const name = config.usernameHeaders.map((h) => headers[h.toLowerCase()]?.[0] ?? '').find(Boolean);
  if (!name) return undefined;
  const groups = config.groupHeaders.flatMap((h) => headers[h.toLowerCase()] ?? []);
  const extra: Record<string, string[]> = {};
  for (const prefix of config.extraHeaderPrefixes.map((p) => p.toLowerCase())) {
    for (const [header, values] of Object.entries(headers)) {
      if (!header.startsWith(prefix) || header.length === prefix.length) continue;
      (extra[extraKey(header.slice(prefix.length))] ??= []).push(...(values ?? []));
    }
  }
  return { name, uid: '', groups, ...(Object.keys(extra).length ? { extra } : {}) };
}

/** Authenticates from the request headers of a verified front proxy; `config` is undefined while no
 * request-header CA is known, and then no request is authenticated this way. */
export function requestHeaderAuthenticator(config: () => RequestHeaderConfig | undefined): Authenticator {
  return {
    async authenticate(req) {
      const current = config();
      if (!current) return undefined;
      const cert = verifiedPeer(req.socket as TLSSocket, current.roots);
      // The front proxy's certificate must be meant for client authentication, as any client certificate.
      const proxy = cert && certificateUser(cert);
      if (!proxy || (current.allowedNames.length && !current.allowedNames.includes(proxy.name))) return undefined;
      return userFromHeaders(req, current);
    },
  };
}
