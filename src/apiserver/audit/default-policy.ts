// The policy `gatehouse up` (and `gatehouse apiserver --audit-log-path` without
// --audit-policy-file) records with: who read what, and what every write to Gatehouse's and
// RBAC's kinds sent and got back. Bodies that hold credentials are never recorded whatever the
// policy says (redact.ts); the Metadata rules below keep them out in the first place.
import { parseAuditPolicy, type AuditPolicy } from './policy.ts';

export const DEFAULT_AUDIT_POLICY_YAML = `apiVersion: audit.k8s.io/v1
kind: Policy
# The ResponseComplete event holds everything RequestReceived does.
omitStages: [RequestReceived]
omitManagedFields: true
rules:
  # Secrets and tokens: who touched them, never what they hold.
  - level: Metadata
    resources:
      - group: ""
        resources: [secrets, serviceaccounts/token]
      - group: authentication.k8s.io
        resources: [tokenreviews]
  # Gateways exchange limit counts every 50 ms per process under traffic: one by one they say
  # little. Anyone else adding to the counters is recorded below.
  - level: None
    users: [system:serviceaccount:gatehouse-system:gatehouse-gateway]
    resources:
      - group: gatehouse.dev
        resources: [counters]
  - level: None
    userGroups: [gatehouse:gateways]
    resources:
      - group: gatehouse.dev
        resources: [counters]
  # Reads: who read what.
  - level: Metadata
    verbs: [get, list, watch]
  # Leader election renewals and Events are frequent and say little; a counters body is a
  # batch of increments.
  - level: Metadata
    resources:
      - group: coordination.k8s.io
        resources: [leases]
      - group: ""
        resources: [events]
      - group: events.k8s.io
        resources: [events]
      - group: gatehouse.dev
        resources: [counters]
  # Writes to Gatehouse's kinds and to access rules: what was sent and what was stored.
  - level: RequestResponse
    resources:
      - group: gatehouse.dev
      - group: rbac.authorization.k8s.io
  # Other writes (Namespaces, ConfigMaps, ServiceAccounts…): what was sent.
  - level: Request
    verbs: [create, update, patch, delete, deletecollection]
  - level: Metadata
`;

export const defaultAuditPolicy: AuditPolicy = parseAuditPolicy(DEFAULT_AUDIT_POLICY_YAML, 'built-in default');
