// Status types shared by every gatehouse.dev kind (metav1.Condition semantics).

export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: string;
  status: ConditionStatus;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

export interface CommonStatus {
  observedGeneration?: number;
  conditions?: Condition[];
}

export interface LocalObjectReference {
  name: string;
}

/** The condition of `type` in an object's status, if any. */
export function findCondition(status: CommonStatus | undefined, type: string): Condition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}
