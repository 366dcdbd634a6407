// The controller runtime's public surface: reconcilers import from here.
export type { BackoffOptions } from './backoff.ts';
export {
  ConditionReason,
  ConditionType,
  markFailed,
  markReady,
  markReconciling,
  markStalled,
  removeCondition,
  setCondition,
  type ConditionInput,
  type Conditioned,
} from './conditions.ts';
export {
  Controller,
  ControllerStoppedError,
  TerminalError,
  keyOf,
  requestOf,
  type ControllerCounters,
  type ControllerOptions,
  type Reconciler,
  type Request,
  type Result,
} from './controller.ts';
export {
  EVENT_METADATA_PREFIX,
  EventRecorder,
  REVISION_ANNOTATION,
  type EventRecorderOptions,
  type EventType,
} from './events.ts';
export type { RuntimeLogger } from './logger.ts';
export { contentChanged, generationChanged, type ChangeFilter, type ObjectChange } from './predicates.ts';
export {
  SubresourceRefusal,
  SubresourceResponder,
  type ResponderOptions,
  type SubresourceAnswer,
} from './responder.ts';
export { writeStatus, type StatusWrite, type StatusWriteOutcome } from './status-writer.ts';
export { timestamp } from './time.ts';
