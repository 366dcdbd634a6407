// The ClusterRole aggregation controller (kube's pkg/controller/clusterroleaggregation): a ClusterRole
// with an aggregationRule holds the rules of every other ClusterRole its selectors match, in name order,
// each rule once. It runs on the watch that feeds the policy index: any ClusterRole change starts a pass,
// and a pass writes only the aggregated roles whose rules drifted. A write that loses a race with
// another replica conflicts and is left to the pass its watch event starts.
import { isDeepStrictEqual } from 'node:util';
import type { ClusterRole, LabelSelector, PolicyRule } from '../../../api/rbac/types.ts';
import { ApiError } from '../../errors.ts';
import type { ResourceStore } from '../../registry/store.ts';
import type { PolicyIndex } from './policy-index.ts';

const RETRY_MS = 1000;
const WRITE = { dryRun: false, fieldValidation: 'Strict' } as const;

export function matchesSelector(selector: LabelSelector, labels: Record<string, string> = {}): boolean {
  const matchLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return (
    matchLabels &&
    (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      const has = Object.hasOwn(labels, key);
      switch (operator) {
        case 'In':
          return has && values.includes(labels[key]);
        case 'NotIn':
          return !has || !values.includes(labels[key]);
        case 'Exists':
          return has;
        case 'DoesNotExist':
          return !has;
        default:
          return false;
      }
    })
  );
}

/** The rules `role`'s aggregationRule gathers from `roles`. */
export function aggregatedRules(role: ClusterRole, roles: Iterable<ClusterRole>): PolicyRule[] {
  const selectors = role.aggregationRule?.clusterRoleSelectors ?? [];
  const sources = [...roles]
    .filter((r) => r.metadata.name !== role.metadata.name)
    .filter((r) => selectors.some((s) => matchesSelector(s, r.metadata.labels)))
    .sort((a, b) => (a.metadata.name as string).localeCompare(b.metadata.name as string));
  const rules: PolicyRule[] = [];
  for (const source of sources) {
    for (const rule of source.rules ?? []) if (!rules.some((r) => isDeepStrictEqual(r, rule))) rules.push(rule);
  }
  return rules;
}

export class AggregationController {
  private pass: Promise<void> = Promise.resolve();
  private queued = false;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly index: PolicyIndex,
    private readonly clusterRoles: ResourceStore,
    private readonly onError: (err: unknown, role: string) => void,
  ) {}

  /** Called for every ClusterRole the watch reports. Passes run one at a time; changes during one queue
   * one more. */
  changed(): void {
    if (this.queued || this.stopped) return;
    this.queued = true;
    this.pass = this.pass.then(() => {
      this.queued = false;
      return this.aggregate();
    });
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
  }

  private async aggregate(): Promise<void> {
    for (const role of [...this.index.allClusterRoles()]) {
      if (!role.aggregationRule || this.stopped) continue;
      const rules = aggregatedRules(role, this.index.allClusterRoles());
      if (isDeepStrictEqual(rules, role.rules ?? [])) continue;
      try {
        await this.clusterRoles.update('', role.metadata.name as string, { ...role, rules }, WRITE);
      } catch (err) {
        const raced = err instanceof ApiError && (err.reason === 'Conflict' || err.reason === 'NotFound');
        if (raced || this.stopped) continue;
        this.onError(err, role.metadata.name as string);
        clearTimeout(this.retry);
        this.retry = setTimeout(() => this.changed(), RETRY_MS);
      }
    }
  }
}
