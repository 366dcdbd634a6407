// What makes a Receiver, Consumer, ApiKey or SecurityPolicy ready (see readiness.ts): the
// objects each names, read from informer caches.
import type { KubeObject } from '../../api/kind.ts';
import type { Secret } from '../../api/core/secret/index.ts';
import type { ApiDefinition } from '../../api/kinds/api-definition/index.ts';
import { apiKeyKind, type ApiKey } from '../../api/kinds/api-key/index.ts';
import { consumerKind, type Consumer } from '../../api/kinds/consumer/index.ts';
import type { GitRepository } from '../../api/kinds/git-repository/index.ts';
import { receiverKind, receiverPath, type Receiver } from '../../api/kinds/receiver/index.ts';
import { securityPolicyKind, type SecurityPolicy } from '../../api/kinds/security-policy/index.ts';
import type { Informer } from '../../client/informer.ts';
import type { InformerIndex } from '../../client/informer-index.ts';
import { cacheKey } from '../references.ts';
import { readToken } from '../webhook/token.ts';
import { ReadinessReason, type Finding, type ReadinessRule } from './readiness.ts';

const namespaceOf = (obj: KubeObject) => obj.metadata.namespace ?? 'default';

/** What `missing` needs of a cache. */
interface Lookup {
  get(namespace: string, name: string): unknown;
}

interface Named {
  namespace: string;
  name: string;
}

const inNamespace = (namespace: string, names: readonly string[]): Named[] =>
  names.map((name) => ({ namespace, name }));
const listed = (refs: readonly Named[]) => refs.map((r) => cacheKey(r.namespace, r.name)).join(', ');

/** One finding naming each object of `refs` of `kind` that `cache` does not hold, and the
 * field that names them; none when all exist. */
function missing(
  reason: ReadinessReason,
  field: string,
  kind: string,
  cache: Lookup,
  refs: readonly Named[],
): Finding[] {
  const absent = refs.filter((r) => !cache.get(r.namespace, r.name));
  return absent.length ? [{ reason, message: `${field}: ${kind} ${listed(absent)} not found` }] : [];
}

export function receiverRule(
  receivers: Informer<Receiver>,
  secrets: Informer<Secret>,
  sources: Informer<GitRepository>,
): ReadinessRule<Receiver> {
  return {
    kind: receiverKind,
    cache: receivers,
    assess(receiver) {
      const namespace = namespaceOf(receiver);
      const path = receiverPath(namespace, receiver.metadata.name!);
      const secretName = receiver.spec.secretRef.name;
      const token = readToken(secrets.get(namespace, secretName), namespace, secretName);
      const resources = inNamespace(
        namespace,
        receiver.spec.resources.map((r) => r.name),
      );
      return {
        problems: [
          ...(token.ok ? [] : [{ reason: token.reason, message: token.message }]),
          ...missing(ReadinessReason.SourceNotFound, 'spec.resources', 'GitRepository', sources, resources),
        ],
        readyMessage: `calls to ${path} reconcile GitRepository ${listed(resources)}`,
        status: { webhookPath: path },
      };
    },
  };
}

/** `subjects` files Consumers under `namespace/subject` for each of their spec.jwtSubjects. */
export function consumerRule(
  consumers: Informer<Consumer>,
  policies: Informer<SecurityPolicy>,
  subjects: InformerIndex<Consumer>,
): ReadinessRule<Consumer> {
  return {
    kind: consumerKind,
    cache: consumers,
    assess(consumer) {
      const namespace = namespaceOf(consumer);
      const held = inNamespace(namespace, consumer.spec.policies ?? []);
      // The gateway gives a subject listed twice to the Consumer first by name.
      const shared = (consumer.spec.jwtSubjects ?? [])
        .map((subject) => {
          const holders = subjects
            .get(cacheKey(namespace, subject))
            .map((c) => c.metadata.name!)
            .sort();
          return { subject, holders };
        })
        .filter((s) => s.holders.length > 1);
      const describe = (list: typeof shared): Finding => ({
        reason: ReadinessReason.JWTSubjectConflict,
        message: `spec.jwtSubjects: ${list
          .map(
            (s) =>
              `"${s.subject}" is listed by Consumers ${listed(inNamespace(namespace, s.holders))}; ` +
              `the gateway uses ${s.holders[0]}`,
          )
          .join('; ')}`,
      });
      const lost = shared.filter((s) => s.holders[0] !== consumer.metadata.name);
      return {
        problems: [
          ...missing(ReadinessReason.PolicyNotFound, 'spec.policies', 'SecurityPolicy', policies, held),
          ...(lost.length ? [describe(lost)] : []),
        ],
        conflict: shared.length ? describe(shared) : undefined,
        readyMessage: held.length ? `holds SecurityPolicy ${listed(held)}` : 'holds no SecurityPolicy',
      };
    },
  };
}

export function apiKeyRule(
  apiKeys: Informer<ApiKey>,
  consumers: Informer<Consumer>,
  policies: Informer<SecurityPolicy>,
): ReadinessRule<ApiKey> {
  return {
    kind: apiKeyKind,
    cache: apiKeys,
    assess(key, now) {
      const namespace = namespaceOf(key);
      const { consumer, expires } = key.spec;
      const expiry = expires === undefined ? undefined : new Date(expires);
      const expired = expiry !== undefined && expiry.getTime() <= now.getTime();
      const owner = inNamespace(namespace, [consumer]);
      return {
        problems: [
          ...(expired ? [{ reason: ReadinessReason.Expired, message: `spec.expires: expired at ${expires}` }] : []),
          ...missing(ReadinessReason.ConsumerNotFound, 'spec.consumer', 'Consumer', consumers, owner),
          ...missing(
            ReadinessReason.PolicyNotFound,
            'spec.policies',
            'SecurityPolicy',
            policies,
            inNamespace(namespace, key.spec.policies ?? []),
          ),
        ],
        readyMessage: `authenticates as Consumer ${listed(owner)}${expires ? ` until ${expires}` : ''}`,
        recheckAt: expired ? undefined : expiry,
      };
    },
  };
}

export function securityPolicyRule(
  policies: Informer<SecurityPolicy>,
  apis: Informer<ApiDefinition>,
): ReadinessRule<SecurityPolicy> {
  return {
    kind: securityPolicyKind,
    cache: policies,
    assess(policy) {
      const namespace = namespaceOf(policy);
      const granted = (policy.spec.apis ?? []).map((a) => ({ namespace: a.namespace ?? namespace, name: a.name }));
      return {
        problems: missing(ReadinessReason.ApiNotFound, 'spec.apis', 'ApiDefinition', apis, granted),
        readyMessage: granted.length ? `grants ApiDefinition ${listed(granted)}` : 'grants no API',
      };
    },
  };
}
