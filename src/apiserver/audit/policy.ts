// kube-apiserver's audit policy (audit.k8s.io/v1 Policy): which requests are recorded, and how
// much of each. Rules are tried in order and the first that matches sets the level; a request no
// rule matches is not recorded (kube's default level None). Matching follows
// k8s.io/apiserver/pkg/audit/policy/checker.go: every field a rule sets must match, an empty
// field matches everything, `namespaces` and `resources` only match resource requests and
// `nonResourceURLs` only the others.
import { parse } from 'yaml';

export const LEVELS = ['None', 'Metadata', 'Request', 'RequestResponse'] as const;
export type Level = (typeof LEVELS)[number];

export const STAGES = ['RequestReceived', 'ResponseStarted', 'ResponseComplete', 'Panic'] as const;
export type Stage = (typeof STAGES)[number];

export interface GroupResources {
  /** '' is the core group. */
  group?: string;
  /** `pods`, `pods/log`, `*`, `*\/status`, `pods/*`. */
  resources?: string[];
  resourceNames?: string[];
}

export interface PolicyRule {
  level: Level;
  users?: string[];
  userGroups?: string[];
  verbs?: string[];
  resources?: GroupResources[];
  /** '' matches cluster-scoped resources. */
  namespaces?: string[];
  /** Paths, or prefixes ending in `*`. */
  nonResourceURLs?: string[];
  omitStages?: Stage[];
  omitManagedFields?: boolean;
}

export interface AuditPolicy {
  apiVersion: 'audit.k8s.io/v1';
  kind: 'Policy';
  rules: PolicyRule[];
  omitStages?: Stage[];
  omitManagedFields?: boolean;
}

/** What the policy says of one request. */
export interface AuditAttributes {
  user?: { name: string; groups: string[] };
  verb: string;
  isResourceRequest: boolean;
  /** The request path (non-resource requests). */
  path: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export interface RequestAuditConfig {
  level: Level;
  omitStages: Stage[];
  omitManagedFields: boolean;
}

const NOT_RECORDED: RequestAuditConfig = { level: 'None', omitStages: [], omitManagedFields: false };

export function levelAtLeast(level: Level, least: Level): boolean {
  return LEVELS.indexOf(level) >= LEVELS.indexOf(least);
}

/** The first rule matching `attrs` decides; rule-level omitStages add to the policy's, a rule's
 * omitManagedFields overrides the policy's. */
export function auditConfigFor(policy: AuditPolicy, attrs: AuditAttributes): RequestAuditConfig {
  const rule = policy.rules.find((r) => ruleMatches(r, attrs));
  if (!rule || rule.level === 'None') return NOT_RECORDED;
  return {
    level: rule.level,
    omitStages: [...new Set([...(policy.omitStages ?? []), ...(rule.omitStages ?? [])])],
    omitManagedFields: rule.omitManagedFields ?? policy.omitManagedFields ?? false,
  };
}

function ruleMatches(rule: PolicyRule, attrs: AuditAttributes): boolean {
  const { user } = attrs;
  if (rule.users?.length && !(user && rule.users.includes(user.name))) return false;
  if (rule.userGroups?.length && !user?.groups.some((g) => rule.userGroups!.includes(g))) return false;
  if (rule.verbs?.length && !rule.verbs.includes(attrs.verb)) return false;
  if (rule.namespaces?.length || rule.resources?.length) return resourceMatches(rule, attrs);
  const urls = rule.nonResourceURLs;
  if (urls?.length) return !attrs.isResourceRequest && urls.some((u) => pathMatches(attrs.path, u));
  return true;
}

function resourceMatches(rule: PolicyRule, attrs: AuditAttributes): boolean {
  if (!attrs.isResourceRequest) return false;
  if (rule.namespaces?.length && !rule.namespaces.includes(attrs.namespace ?? '')) return false;
  if (!rule.resources?.length) return true;
  const { resource, subresource } = attrs;
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return rule.resources.some((gr) => {
    if ((gr.group ?? '') !== attrs.group) return false;
    if (!gr.resources?.length) return true;
    if (gr.resourceNames?.length && !gr.resourceNames.includes(attrs.name ?? '')) return false;
    return gr.resources.some(
      (r) =>
        r === '*' ||
        r === combined ||
        (subresource !== undefined && r.startsWith('*/') && r.slice(2) === subresource) ||
        (r.endsWith('/*') && r.slice(0, -2) === resource),
    );
  });
}

function pathMatches(path: string, spec: string): boolean {
  return spec === '*' || spec === path || (spec.endsWith('*') && path.startsWith(spec.slice(0, -1)));
}

/** A policy file that does not parse or validate; the message names the file and the field. */
export class AuditPolicyError extends Error {
  override readonly name = 'AuditPolicyError';
}

const RULE_FIELDS = new Set([
  'level',
  'users',
  'userGroups',
  'verbs',
  'resources',
  'namespaces',
  'nonResourceURLs',
  'omitStages',
  'omitManagedFields',
]);
const POLICY_FIELDS = new Set(['apiVersion', 'kind', 'metadata', 'rules', 'omitStages', 'omitManagedFields']);
const GROUP_RESOURCE_FIELDS = new Set(['group', 'resources', 'resourceNames']);

/** Parses a Policy file (YAML or JSON) with kube's validation, and refuses unknown fields: a
 * misspelt `resource:` would otherwise widen a rule to every resource. */
export function parseAuditPolicy(text: string, source: string): AuditPolicy {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new AuditPolicyError(`audit policy ${source}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const problems: string[] = [];
  validatePolicy(doc, problems);
  if (problems.length) throw new AuditPolicyError(`audit policy ${source}: ${problems.join('; ')}`);
  return doc as AuditPolicy;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknownFields(value: Record<string, unknown>, known: Set<string>, path: string, problems: string[]): void {
  for (const key of Object.keys(value)) if (!known.has(key)) problems.push(`${path}${key}: unknown field`);
}

function stringList(value: unknown, path: string, problems: string[]): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    problems.push(`${path}: must be a list of strings`);
    return [];
  }
  return value as string[];
}

function validateStages(value: unknown, path: string, problems: string[]): void {
  for (const [i, stage] of stringList(value, path, problems).entries()) {
    if (!(STAGES as readonly string[]).includes(stage)) {
      problems.push(`${path}[${i}]: Unsupported value: "${stage}": supported values: ${STAGES.join(', ')}`);
    }
  }
}

function validateBoolean(value: unknown, path: string, problems: string[]): void {
  if (value !== undefined && typeof value !== 'boolean') problems.push(`${path}: must be a boolean`);
}

function validatePolicy(doc: unknown, problems: string[]): void {
  if (!isObject(doc)) {
    problems.push('must be a Policy object');
    return;
  }
  unknownFields(doc, POLICY_FIELDS, '', problems);
  if (doc.apiVersion !== 'audit.k8s.io/v1') {
    problems.push(`apiVersion: must be "audit.k8s.io/v1", not ${JSON.stringify(doc.apiVersion)}`);
  }
  if (doc.kind !== 'Policy') problems.push(`kind: must be "Policy", not ${JSON.stringify(doc.kind)}`);
  validateStages(doc.omitStages, 'omitStages', problems);
  validateBoolean(doc.omitManagedFields, 'omitManagedFields', problems);
  if (!Array.isArray(doc.rules)) {
    problems.push('rules: must be a list');
    return;
  }
  for (const [i, rule] of doc.rules.entries()) validateRule(rule, `rules[${i}]`, problems);
}

function validateRule(rule: unknown, path: string, problems: string[]): void {
  if (!isObject(rule)) {
    problems.push(`${path}: must be an object`);
    return;
  }
  unknownFields(rule, RULE_FIELDS, `${path}.`, problems);
  if (!(LEVELS as readonly string[]).includes(rule.level as string)) {
    const supported = LEVELS.join(', ');
    problems.push(`${path}.level: Unsupported value: ${JSON.stringify(rule.level)}: supported values: ${supported}`);
  }
  for (const field of ['users', 'userGroups', 'verbs', 'namespaces'] as const) {
    stringList(rule[field], `${path}.${field}`, problems);
  }
  const urls = stringList(rule.nonResourceURLs, `${path}.nonResourceURLs`, problems);
  urls.forEach((url, i) => {
    const invalid = `${path}.nonResourceURLs[${i}]: Invalid value: "${url}"`;
    if (url !== '*' && !url.startsWith('/')) problems.push(`${invalid}: must start with "/"`);
    if (url.slice(0, -1).includes('*')) problems.push(`${invalid}: "*" only at the end`);
  });
  const hasResources = rule.resources !== undefined || rule.namespaces !== undefined;
  if (urls.length && hasResources) {
    problems.push(`${path}: rules cannot apply to both regular resources and non-resource URLs`);
  }
  validateStages(rule.omitStages, `${path}.omitStages`, problems);
  validateBoolean(rule.omitManagedFields, `${path}.omitManagedFields`, problems);
  if (rule.resources === undefined) return;
  if (!Array.isArray(rule.resources)) {
    problems.push(`${path}.resources: must be a list`);
    return;
  }
  rule.resources.forEach((gr, i) => {
    const at = `${path}.resources[${i}]`;
    if (!isObject(gr)) {
      problems.push(`${at}: must be an object`);
      return;
    }
    unknownFields(gr, GROUP_RESOURCE_FIELDS, `${at}.`, problems);
    if (gr.group !== undefined && typeof gr.group !== 'string') problems.push(`${at}.group: must be a string`);
    const resources = stringList(gr.resources, `${at}.resources`, problems);
    if (stringList(gr.resourceNames, `${at}.resourceNames`, problems).length && !resources.length) {
      problems.push(`${at}.resourceNames: using resourceNames requires at least one resource`);
    }
  });
}
