import type { JSONSchema } from '../../kind.ts';
import { dateTime, integer, object, string } from '../../schema/build.ts';

export const leaseSchema: JSONSchema = object(
  'Lease is a lock with an expiry (coordination.k8s.io/v1): components elect one writer with it.',
  {
    spec: object('Who holds the lease and until when.', {
      holderIdentity: string('Identity of the holder.'),
      leaseDurationSeconds: integer('How long a holder keeps the lease without renewing it.', { minimum: 1 }),
      acquireTime: dateTime('When the current holder acquired the lease.'),
      renewTime: dateTime('When the current holder last renewed the lease.'),
      leaseTransitions: integer('How many times the lease changed holders.', { minimum: 0 }),
    }),
  },
);
