// Policy rules as kube-apiserver reads them (plugin/pkg/auth/authorizer/rbac and
// pkg/registry/rbac/validation): whether a rule allows a request, and whether one set of rules
// covers another (the escalation check).
import type { PolicyRule } from '../../../api/rbac/types.ts';
import type { AuthorizationAttributes } from '../auth.ts';

const ALL = '*';

const has = (values: string[] | undefined, value: string) => values?.includes(value) ?? false;

function verbMatches(rule: PolicyRule, verb: string): boolean {
  return has(rule.verbs, ALL) || has(rule.verbs, verb);
}

function resourceMatches(rule: PolicyRule, combined: string, subresource: string | undefined): boolean {
  for (const r of rule.resources ?? []) {
    if (r === ALL || r === combined) return true;
    // "*/status" matches the status subresource of every resource.
    if (subresource && r === `*/${subresource}`) return true;
  }
  return false;
}

/** A trailing "*" matches every path that starts with what precedes it. */
function urlMatches(ruleURL: string, path: string): boolean {
  return ruleURL === ALL || ruleURL === path || (ruleURL.endsWith(ALL) && path.startsWith(ruleURL.replace(/\*+$/, '')));
}

export function ruleAllows(attrs: AuthorizationAttributes, rule: PolicyRule): boolean {
  if (!verbMatches(rule, attrs.verb)) return false;
  if (attrs.isResourceRequest === false) {
    return (rule.nonResourceURLs ?? []).some((u) => urlMatches(u, attrs.path ?? ''));
  }
  const combined = attrs.subresource ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
  return (
    (has(rule.apiGroups, ALL) || has(rule.apiGroups, attrs.group)) &&
    resourceMatches(rule, combined, attrs.subresource) &&
    (!rule.resourceNames?.length || has(rule.resourceNames, attrs.name ?? ''))
  );
}

/** One rule per group × resource × verb × name, and per URL × verb (kube's BreakdownRule). */
function breakdown(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of rule.apiGroups ?? []) {
    for (const resource of rule.resources ?? []) {
      for (const verb of rule.verbs) {
        const base = { apiGroups: [group], resources: [resource], verbs: [verb] };
        const names = rule.resourceNames ?? [];
        if (names.length) for (const name of names) out.push({ ...base, resourceNames: [name] });
        else out.push(base);
      }
    }
  }
  for (const url of rule.nonResourceURLs ?? []) {
    for (const verb of rule.verbs) out.push({ nonResourceURLs: [url], verbs: [verb] });
  }
  return out;
}

const hasAll = (set: string[] | undefined, values: string[] | undefined) => (values ?? []).every((v) => has(set, v));

function resourcesCovered(set: string[] | undefined, resources: string[] | undefined): boolean {
  if (has(set, ALL)) return true;
  // A subresource is also covered by "*/subresource".
  const subresource = (r: string) => r.includes('/') && has(set, `*/${r.slice(r.indexOf('/') + 1)}`);
  return (resources ?? []).every((r) => has(set, r) || subresource(r));
}

/** Whether `owner` covers `sub`, a rule of at most one verb, resource and name. */
function ruleCovers(owner: PolicyRule, sub: PolicyRule): boolean {
  const names = sub.resourceNames?.length
    ? !owner.resourceNames?.length || hasAll(owner.resourceNames, sub.resourceNames)
    : !owner.resourceNames?.length;
  return (
    (has(owner.verbs, ALL) || hasAll(owner.verbs, sub.verbs)) &&
    (has(owner.apiGroups, ALL) || hasAll(owner.apiGroups, sub.apiGroups)) &&
    resourcesCovered(owner.resources, sub.resources) &&
    (sub.nonResourceURLs ?? []).every((u) => (owner.nonResourceURLs ?? []).some((o) => o === u || urlMatches(o, u))) &&
    names
  );
}

/** The parts of `rules` no rule of `owner` covers (kube's Covers); empty when `owner` holds them all. */
export function uncovered(owner: PolicyRule[], rules: PolicyRule[]): PolicyRule[] {
  return rules.flatMap(breakdown).filter((sub) => !owner.some((o) => ruleCovers(o, sub)));
}

const quoted = (values: string[]) => `[${values.map((v) => JSON.stringify(v)).join(' ')}]`;

/** A rule as kube prints it in an escalation refusal: `{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`. */
export function compactString(rule: PolicyRule): string {
  const parts: string[] = [];
  const fields = [
    ['APIGroups', rule.apiGroups],
    ['Resources', rule.resources],
    ['NonResourceURLs', rule.nonResourceURLs],
    ['ResourceNames', rule.resourceNames],
    ['Verbs', rule.verbs],
  ] as const;
  for (const [name, values] of fields) if (values?.length) parts.push(`${name}:${quoted(values)}`);
  return `{${parts.join(', ')}}`;
}
