// @conclave/key-service/server: mount the MLS Delivery/Authentication Service on a socket.io server.
export {
  attachKeyService,
  KeyService,
  type AuthenticatedUser,
  type KeyServiceOptions,
  type RoomSnapshot,
} from './key-service.ts';
export type {
  ClusterGate,
  ClusterRefusal,
  FenceAnswer,
  RecordAnswer,
  WithdrawAnswer,
} from './cluster-gate.ts';
export type { Logger } from './logger.ts';
export { SessionExpiry } from './session-expiry.ts';
export type { KeyServiceStatsSnapshot } from './stats.ts';
export { KeyServiceError } from '../errors.ts';
export { DEFAULT_LIMITS, KEY_SERVICE_NAMESPACE, type KeyServiceLimits, type WireError } from '../protocol.ts';
