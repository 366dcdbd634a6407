// What the cluster says about authenticating its clients: ConfigMap kube-system/extension-apiserver-
// authentication, which kube-apiserver writes for extension servers (client-ca-file, and the front proxy's
// requestheader-client-ca-file, -allowed-names, -username-headers, -group-headers, -extra-headers-prefix,
// lists as JSON arrays). It is watched, so a CA rotated there applies without a restart (kube's
// DynamicCAFromConfigMapController). A flag given overrides the ConfigMap's key, as in k8s.io/apiserver.
import type { X509Certificate } from 'node:crypto';
import { configMapKind } from '../../../api/core/config-map/index.ts';
import type { KubeObject } from '../../../api/kind.ts';
import { Informer } from '../../../client/informer.ts';
import type { KubeClient } from '../../../client/rest.ts';
import { parseCertificates } from './peer-certificate.ts';
import type { RequestHeaderConfig } from './request-header.ts';

export const AUTHENTICATION_CONFIGMAP = { namespace: 'kube-system', name: 'extension-apiserver-authentication' };

/** The --client-ca-file and --requestheader-* flags: each given one replaces the ConfigMap's key. */
export interface AuthenticationFlags {
  /** PEM of --client-ca-file. */
  clientCa?: string;
  /** PEM of --requestheader-client-ca-file. */
  requestHeaderCa?: string;
  requestHeaderAllowedNames?: string[];
  requestHeaderUsernameHeaders?: string[];
  requestHeaderGroupHeaders?: string[];
  requestHeaderExtraHeadersPrefix?: string[];
}

export interface ClusterAuthentication {
  clientCa: readonly X509Certificate[];
  /** Undefined while no request-header CA is known: no front proxy is trusted. */
  requestHeader?: RequestHeaderConfig;
}

/** kube's defaults of the request-header names, when neither a flag nor the ConfigMap gives them. */
const DEFAULT_HEADERS = {
  usernameHeaders: ['X-Remote-User'],
  groupHeaders: ['X-Remote-Group'],
  extraHeaderPrefixes: ['X-Remote-Extra-'],
};

type ConfigMapData = Record<string, string | undefined>;

const WHERE = `ConfigMap ${AUTHENTICATION_CONFIGMAP.namespace}/${AUTHENTICATION_CONFIGMAP.name}`;

function listOf(data: ConfigMapData, key: string): string[] | undefined {
  const raw = data[key];
  if (raw === undefined || raw === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new Error(`${WHERE}: ${key}: ${JSON.stringify(raw)} is not a JSON array of strings`);
  }
  return value as string[];
}

/** The configuration from the flags and the ConfigMap's data (absent with --authentication-skip-lookup). A
 * bad value is an error naming the ConfigMap and its key. */
export function clusterAuthentication(flags: AuthenticationFlags, data: ConfigMapData = {}): ClusterAuthentication {
  const pem = (key: string, given: string | undefined, flag: string) => {
    const text = given ?? data[key];
    return text ? parseCertificates(text, given === undefined ? `${WHERE}: ${key}` : flag) : [];
  };
  const clientCa = pem('client-ca-file', flags.clientCa, '--client-ca-file');
  const roots = pem('requestheader-client-ca-file', flags.requestHeaderCa, '--requestheader-client-ca-file');
  if (!roots.length) return { clientCa };
  const list = (key: string, given: string[] | undefined) => given ?? listOf(data, key);
  return {
    clientCa,
    requestHeader: {
      roots,
      allowedNames: list('requestheader-allowed-names', flags.requestHeaderAllowedNames) ?? [],
      usernameHeaders:
        list('requestheader-username-headers', flags.requestHeaderUsernameHeaders) ?? DEFAULT_HEADERS.usernameHeaders,
      groupHeaders:
        list('requestheader-group-headers', flags.requestHeaderGroupHeaders) ?? DEFAULT_HEADERS.groupHeaders,
      extraHeaderPrefixes:
        list('requestheader-extra-headers-prefix', flags.requestHeaderExtraHeadersPrefix) ??
        DEFAULT_HEADERS.extraHeaderPrefixes,
    },
  };
}

/** Follows the ConfigMap with an informer on that one object (which the Role
 * extension-apiserver-authentication-reader allows); `current()` is the configuration of its latest
 * version. A version that cannot be read keeps the one before and is reported. */
export class ClusterAuthenticationSource {
  private config: ClusterAuthentication;
  private readonly informer: Informer<KubeObject>;

  constructor(
    private readonly flags: AuthenticationFlags,
    client: KubeClient,
    private readonly onError: (err: unknown) => void,
  ) {
    this.config = clusterAuthentication(flags);
    this.informer = new Informer<KubeObject>(client, configMapKind, {
      namespace: AUTHENTICATION_CONFIGMAP.namespace,
      fieldSelector: `metadata.name=${AUTHENTICATION_CONFIGMAP.name}`,
      onChange: () => this.reload(),
      onError,
    });
  }

  current(): ClusterAuthentication {
    return this.config;
  }

  /** Starts following; resolves once the ConfigMap was read (or found absent) the first time. */
  start(): Promise<void> {
    return this.informer.start().synced;
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }

  private reload(): void {
    const found = this.informer.get(AUTHENTICATION_CONFIGMAP.namespace, AUTHENTICATION_CONFIGMAP.name);
    try {
      this.config = clusterAuthentication(this.flags, (found as { data?: ConfigMapData } | undefined)?.data);
    } catch (err) {
      this.onError(err);
    }
  }
}
