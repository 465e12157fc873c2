// @conclave/key-service/client: the browser-side MLS member and its stores.
export {
  KeyClient,
  membersOf,
  SFRAME_BASE_KEY_LABEL,
  type ChatMessage,
  type ClientLogger,
  type EpochKeys,
  type HandMessage,
  type KeyClientEvents,
  type KeyClientOptions,
  type KnockInfo,
  type MemberInfo,
  type MembershipChange,
} from './key-client.ts';
export { decodeAppMessage, encodeAppMessage, type AppMessage } from './app-message.ts';
export { fingerprint, securityCode } from './codes.ts';
export {
  IndexedDbKeyStores,
  MemoryIdentityStore,
  MemoryTrustStore,
  type IdentityStore,
  type StoredIdentity,
  type TrustStore,
} from './stores.ts';
export { KeyServiceError } from '../errors.ts';
export type { Refusal } from './membership-guard.ts';
export type { Violation, ViolationCode } from '../membership-policy.ts';
export { DEFAULT_MLS_SUITE, PQ_MLS_SUITE, SUPPORTED_MLS_SUITES, type MlsSuiteName } from '../protocol.ts';
export type { Roles } from '../roles.ts';
