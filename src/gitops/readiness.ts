// The controllers that keep READY of Receivers, Consumers, ApiKeys and SecurityPolicies
// current (rules in controllers/readiness-rules.ts). Each watches its own kind (spec
// changes) and, through an index, the kinds its objects name: a named object that appears,
// goes, or (for Secrets and Consumers' JWT subjects) changes reconciles exactly the objects
// that name it.
import type { Secret } from '../api/core/secret/index.ts';
import { apiDefinitionKind, type ApiDefinition } from '../api/kinds/api-definition/index.ts';
import { apiKeyKind, type ApiKey } from '../api/kinds/api-key/index.ts';
import { consumerKind, type Consumer } from '../api/kinds/consumer/index.ts';
import type { GitRepository } from '../api/kinds/git-repository/index.ts';
import type { Receiver } from '../api/kinds/receiver/index.ts';
import { securityPolicyKind, type SecurityPolicy } from '../api/kinds/security-policy/index.ts';
import type { KubeObject } from '../api/kind.ts';
import { Informer } from '../client/informer.ts';
import type { KubeClient } from '../client/rest.ts';
import {
  Controller,
  generationChanged,
  requestOf,
  type BackoffOptions,
  type RuntimeLogger,
} from '../controller/runtime/index.ts';
import { ReadinessReconciler, type ReadinessRule } from './controllers/readiness.ts';
import { apiKeyRule, consumerRule, receiverRule, securityPolicyRule } from './controllers/readiness-rules.ts';
import { appearedOrWent, cacheKey, indexBy, naming } from './references.ts';

export interface ReadinessDeps {
  client: KubeClient;
  logger: RuntimeLogger;
  concurrency?: number;
  backoff?: BackoffOptions;
  /** Informers the controller process runs anyway; started and stopped by the caller. */
  secrets: Informer<Secret>;
  sources: Informer<GitRepository>;
  receivers: Informer<Receiver>;
  onError: (kind: string) => (err: unknown) => void;
}

export interface Readiness {
  /** The informers made here, for the caller to start and stop with its own. */
  informers: Informer<KubeObject>[];
  controllers: Controller[];
}

const byName = (names: readonly string[] = []) => names.map((name) => ({ name }));

export function readinessControllers(deps: ReadinessDeps): Readiness {
  const { client, secrets, sources, receivers, onError } = deps;
  const consumers = new Informer<Consumer>(client, consumerKind, { onError: onError('Consumer') });
  const apiKeys = new Informer<ApiKey>(client, apiKeyKind, { onError: onError('ApiKey') });
  const policies = new Informer<SecurityPolicy>(client, securityPolicyKind, { onError: onError('SecurityPolicy') });
  const apis = new Informer<ApiDefinition>(client, apiDefinitionKind, { onError: onError('ApiDefinition') });

  const receiversBySecret = indexBy(receivers, (r) => [r.spec.secretRef]);
  const receiversBySource = indexBy(receivers, (r) => r.spec.resources);
  const consumersByPolicy = indexBy(consumers, (c) => byName(c.spec.policies));
  const consumersBySubject = indexBy(consumers, (c) => byName(c.spec.jwtSubjects));
  const apiKeysByConsumer = indexBy(apiKeys, (k) => [{ name: k.spec.consumer }]);
  const apiKeysByPolicy = indexBy(apiKeys, (k) => byName(k.spec.policies));
  const policiesByApi = indexBy(policies, (p) => p.spec.apis ?? []);
  /** The Consumers listing a JWT subject of `c`; a modification maps the old subjects too. */
  const sharingSubjects = (c: Consumer) =>
    (c.spec.jwtSubjects ?? []).flatMap((s) => consumersBySubject.get(cacheKey(c.metadata.namespace ?? 'default', s)));

  const controller = <T extends KubeObject>(name: string, rule: ReadinessRule<T>) => {
    const reconciler = new ReadinessReconciler(client, rule);
    const { logger, concurrency, backoff } = deps;
    return new Controller({ name, reconciler, logger, concurrency, backoff }).watch(
      rule.cache,
      undefined,
      generationChanged,
    );
  };

  const controllers = [
    controller('receiver', receiverRule(receivers, secrets, sources))
      // A Secret's data is its content: every change may fix or break the token.
      .watch(secrets, naming(receiversBySecret))
      .watch(sources, naming(receiversBySource), appearedOrWent),
    controller('consumer', consumerRule(consumers, policies, consumersBySubject))
      .watch(policies, naming(consumersByPolicy), appearedOrWent)
      .watch(consumers, (c) => sharingSubjects(c).map(requestOf), generationChanged),
    controller('apikey', apiKeyRule(apiKeys, consumers, policies))
      .watch(consumers, naming(apiKeysByConsumer), appearedOrWent)
      .watch(policies, naming(apiKeysByPolicy), appearedOrWent),
    controller('securitypolicy', securityPolicyRule(policies, apis)).watch(apis, naming(policiesByApi), appearedOrWent),
  ];
  return { informers: [consumers, apiKeys, policies, apis] as unknown as Informer<KubeObject>[], controllers };
}
