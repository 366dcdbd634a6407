// What makes a Provider or an Alert ready: a Provider whose Secrets hold what its type needs
// (target.ts), an Alert whose Provider exists. Read from informer caches (controllers/readiness.ts).
import type { Secret } from '../../api/core/secret/index.ts';
import { alertKind, type Alert } from '../../api/kinds/alert/index.ts';
import { providerKind, type Provider } from '../../api/kinds/provider/index.ts';
import type { Informer } from '../../client/informer.ts';
import { ReadinessReason, type ReadinessRule } from '../controllers/readiness.ts';
import { readTarget } from './target.ts';

export function providerRule(providers: Informer<Provider>, secrets: Informer<Secret>): ReadinessRule<Provider> {
  return {
    kind: providerKind,
    cache: providers,
    assess(provider) {
      const read = readTarget(provider, (namespace, name) => secrets.get(namespace, name));
      const host = read.ok ? read.target.address.host : '';
      return {
        problems: read.ok ? [] : read.problems,
        readyMessage: provider.spec.suspend ? 'suspended' : `sends ${provider.spec.type} notifications to ${host}`,
      };
    },
  };
}

export function alertRule(alerts: Informer<Alert>, providers: Informer<Provider>): ReadinessRule<Alert> {
  return {
    kind: alertKind,
    cache: alerts,
    assess(alert) {
      const namespace = alert.metadata.namespace ?? 'default';
      const name = alert.spec.providerRef.name;
      const found = providers.get(namespace, name);
      const sources = alert.spec.eventSources.map((s) => `${s.kind} ${s.namespace ?? namespace}/${s.name}`).join(', ');
      return {
        problems: found
          ? []
          : [
              {
                reason: ReadinessReason.ProviderNotFound,
                message: `spec.providerRef: Provider ${namespace}/${name} not found`,
              },
            ],
        readyMessage: alert.spec.suspend
          ? 'suspended'
          : `sends ${alert.spec.eventSeverity} events of ${sources} to Provider ${namespace}/${name}`,
      };
    },
  };
}
