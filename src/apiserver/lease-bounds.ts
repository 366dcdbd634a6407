// A bound on how long a Lease may be held without renewal, as validating admission: an identity that
// may write a Lease (a gateway electing its status writer) could otherwise set leaseDurationSeconds to
// 2·10⁹ and keep every other replica from taking over until an administrator deletes the Lease.
// system:masters is not bounded, as no RBAC policy bounds it.
import type { KindDefinition, KubeObject } from '../api/kind.ts';
import type { Lease } from '../api/core/lease/types.ts';
import type { UserInfo } from './auth/auth.ts';
import { errors } from './errors.ts';

/** Longest leaseDurationSeconds an identity outside system:masters may write: twenty times the
 * 15 s Gatehouse's leader elections use, far below a duration that takes a Lease for good. */
export const MAX_LEASE_DURATION_SECONDS = 300;

/** Throws Invalid, naming the Lease and the field, when `user` writes a longer duration. */
export function admitLeaseDuration(user: UserInfo, def: KindDefinition, obj: KubeObject): void {
  if (def.group !== 'coordination.k8s.io' || def.kind !== 'Lease' || user.groups.includes('system:masters')) return;
  const seconds = (obj as Lease).spec?.leaseDurationSeconds;
  if (seconds === undefined || seconds <= MAX_LEASE_DURATION_SECONDS) return;
  throw errors.invalid({ group: def.group, resource: def.plural }, def.kind, obj.metadata.name ?? '', [
    {
      type: 'FieldValueInvalid',
      field: 'spec.leaseDurationSeconds',
      message:
        `Invalid value: ${seconds}: must be at most ${MAX_LEASE_DURATION_SECONDS} ` +
        `for ${JSON.stringify(user.name)}, who is not in system:masters`,
    },
  ]);
}
