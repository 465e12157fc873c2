// The key client's MLS operations (RFC 9420, via ts-mls), as pure functions of a group state: create,
// join (external commit or Welcome), commit, process, application messages, and the export of the
// SFrame base key of an epoch (RFC 9605 §5.2):
//   base_key = MLS-Exporter("SFrame 1.0 Base Key", "", Nk)
// Nothing here talks to the network, keeps state between calls or emits events: KeyClient sends what
// these functions build and decides which state to adopt.
//
// Must hold: the roster is read from the MLS ratchet tree, never from the server; a credential counts
// only when it names a well-formed user id; nothing decoded from the wire is trusted before it
// decodes whole (no trailing bytes).
import {
  createApplicationMessage,
  createCommit,
  createGroup,
  createGroupInfoWithExternalPubAndRatchetTree,
  decodeMlsMessage,
  defaultLifetime,
  emptyPskIndex,
  encodeMlsMessage,
  generateKeyPackageWithKey,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  joinGroup,
  joinGroupExternal,
  mlsExporter,
  processPrivateMessage,
  processPublicMessage,
  type CiphersuiteImpl,
  type CiphersuiteName,
  type ClientState,
  type CryptoProvider,
  type GroupInfo,
  type MLSMessage,
  type Proposal,
} from 'ts-mls';
import { defaultClientConfig } from 'ts-mls/clientConfig.js';
import { ratchetTreeFromExtension } from 'ts-mls/groupInfo.js';
import { decryptSenderData } from 'ts-mls/privateMessage.js';
import { bytesEqual } from '@conclave/common/bytes';
import { KeyServiceError } from '../errors.ts';
import { groupInfoShapeProblem } from '../group-info-limits.ts';
import { memberCapabilities } from '../capabilities.ts';
import { actingHosts, rolesExtension, rolesOf, type Roles } from '../roles.ts';
import { credentialUserId } from '../membership-policy.ts';
import { SUPPORTED_MLS_SUITES } from '../protocol.ts';
import { decodeAppMessage, encodeAppMessage, type AppMessage } from './app-message.ts';
import { fingerprint, securityCode } from './codes.ts';
import type { StoredIdentity } from './stores.ts';
import type { EpochKeys, MemberInfo } from './types.ts';

/** The MLS exporter label of the SFrame base key (RFC 9605 §5.2). */
export const SFRAME_BASE_KEY_LABEL = 'SFrame 1.0 Base Key';

export type GeneratedKeyPackage = Awaited<ReturnType<typeof generateKeyPackageWithKey>>;
export type PublicMessage = Extract<MLSMessage, { wireformat: 'mls_public_message' }>['publicMessage'];
export type PrivateMessage = Extract<MLSMessage, { wireformat: 'mls_private_message' }>['privateMessage'];

const encoder = new TextEncoder();

/** The user id a basic credential's identity names, or undefined when it is not a valid one. */
export function userIdOf(identity: Uint8Array): string | undefined {
  return credentialUserId({ credentialType: 'basic', identity });
}

/** One whole MLSMessage in `bytes`, or undefined (malformed, or trailing bytes). */
export function decodeMessage(bytes: Uint8Array): MLSMessage | undefined {
  try {
    const decoded = decodeMlsMessage(bytes, 0);
    return decoded !== undefined && decoded[1] === bytes.byteLength ? decoded[0] : undefined;
  } catch {
    return undefined;
  }
}

function encodeGroupInfo(groupInfo: GroupInfo): Uint8Array {
  return encodeMlsMessage({ version: 'mls10', wireformat: 'mls_group_info', groupInfo });
}

/**
 * The members of a group state, from its ratchet tree: every leaf whose basic credential names a
 * well-formed user id.
 *
 * @param state a ts-mls group state
 * @returns the members in leaf order, each with its signature key's fingerprint
 */
export function membersOf(state: ClientState): MemberInfo[] {
  const members: MemberInfo[] = [];
  state.ratchetTree.forEach((node, i) => {
    if (i % 2 !== 0 || node === undefined || node.nodeType !== 'leaf') return;
    const credential = node.leaf.credential;
    const userId = credential.credentialType === 'basic' ? userIdOf(credential.identity) : undefined;
    if (userId === undefined) return;
    members.push({
      leafIndex: i / 2,
      userId,
      signatureKey: node.leaf.signaturePublicKey,
      fingerprint: fingerprint(node.leaf.signaturePublicKey),
    });
  });
  return members;
}

/** ts-mls's client configuration with Conclave's Authentication Service, client side. */
export function clientConfig() {
  return {
    ...defaultClientConfig,
    authService: {
      // A credential must name a well-formed user id; the key service has bound it to an
      // authenticated socket. Key changes are flagged per epoch (trust on first use).
      async validateCredential(credential: {
        credentialType: string;
        identity?: Uint8Array;
      }): Promise<boolean> {
        return credential.credentialType === 'basic' && credential.identity !== undefined
          ? userIdOf(credential.identity) !== undefined
          : false;
      },
    },
  };
}

/** The ts-mls implementation of `suite`, on `provider` (WebCrypto when undefined). */
export function suiteImpl(
  suite: CiphersuiteName,
  provider: CryptoProvider | undefined,
): Promise<CiphersuiteImpl> {
  return getCiphersuiteImpl(getCiphersuiteFromName(suite), provider);
}

/** Throws unless `suite` is one a Conclave group may use. */
export function requireSupportedSuite(suite: CiphersuiteName): void {
  if (!(SUPPORTED_MLS_SUITES as readonly string[]).includes(suite)) {
    throw new KeyServiceError('bad-request', `the group uses an unsupported suite ${suite}`);
  }
}

/** A fresh signature key pair. Both supported suites sign with Ed25519, so one pair serves either. */
export async function newIdentity(impl: CiphersuiteImpl): Promise<StoredIdentity> {
  const pair = await impl.signature.keygen();
  return { signaturePublicKey: pair.publicKey, signaturePrivateKey: pair.signKey };
}

/** A KeyPackage for `userId` under its long-lived signature key. */
export function keyPackageFor(
  userId: string,
  identity: StoredIdentity,
  impl: CiphersuiteImpl,
): Promise<GeneratedKeyPackage> {
  return generateKeyPackageWithKey(
    { credentialType: 'basic', identity: encoder.encode(userId) },
    memberCapabilities(),
    defaultLifetime,
    [],
    { signKey: identity.signaturePrivateKey, publicKey: identity.signaturePublicKey },
    impl,
  );
}

/** The encoded GroupInfo (with external_pub and the ratchet tree) that lets others join `state`. */
export async function groupInfoOf(state: ClientState, impl: CiphersuiteImpl): Promise<Uint8Array> {
  return encodeGroupInfo(await createGroupInfoWithExternalPubAndRatchetTree(state, [], impl));
}

/** A new group whose first host is the creator (random 16-byte group id). */
export async function createMeetingGroup(
  kp: GeneratedKeyPackage,
  roles: Roles,
  impl: CiphersuiteImpl,
): Promise<{ state: ClientState; groupInfo: Uint8Array }> {
  const groupId = new Uint8Array(16);
  crypto.getRandomValues(groupId);
  const state = await createGroup(
    groupId,
    kp.publicPackage,
    kp.privatePackage,
    [rolesExtension(roles)],
    impl,
    clientConfig(),
  );
  return { state, groupInfo: await groupInfoOf(state, impl) };
}

/**
 * Joins by external commit. Resync (RFC 9420 §12.4.3.2): with `resync`, our own old leaf (reload,
 * lost state) is removed in the same commit.
 */
export async function joinByExternalCommit(
  info: GroupInfo,
  kp: GeneratedKeyPackage,
  resync: boolean,
  impl: CiphersuiteImpl,
): Promise<{ state: ClientState; commit: Uint8Array; groupInfo: Uint8Array }> {
  const { publicMessage, newState } = await joinGroupExternal(
    info,
    kp.publicPackage,
    kp.privatePackage,
    resync,
    impl,
    undefined,
    clientConfig(),
  );
  const commit = encodeMlsMessage({ version: 'mls10', wireformat: 'mls_public_message', publicMessage });
  return { state: newState, commit, groupInfo: await groupInfoOf(newState, impl) };
}

/**
 * The group a Welcome (RFC 9420 §12.4.3.1) for our KeyPackage brings.
 *
 * @throws {KeyServiceError} 'forbidden' when it is another group than `groupId`, or carries
 *   extensions a meeting never has
 */
export async function joinByWelcome(
  welcome: Extract<MLSMessage, { wireformat: 'mls_welcome' }>['welcome'],
  kp: GeneratedKeyPackage,
  groupId: Uint8Array,
  impl: CiphersuiteImpl,
): Promise<ClientState> {
  const state = await joinGroup(
    welcome,
    kp.publicPackage,
    kp.privatePackage,
    emptyPskIndex,
    impl,
    undefined,
    undefined,
    clientConfig(),
  );
  if (!bytesEqual(state.groupContext.groupId, groupId)) {
    throw new KeyServiceError('forbidden', 'the Welcome is for another group than the one we knocked on');
  }
  if (state.groupContext.extensions.length > 0 && rolesOf(state.groupContext.extensions) === undefined) {
    throw new KeyServiceError('forbidden', "the Welcome's group carries extensions a meeting never has");
  }
  return state;
}

/** A commit of `proposals` (with a path) for the current epoch, and what it sends. */
export async function commitOf(
  state: ClientState,
  impl: CiphersuiteImpl,
  proposals: Proposal[],
  withWelcome: boolean,
): Promise<{ state: ClientState; commit: Uint8Array; groupInfo: Uint8Array; welcome?: Uint8Array }> {
  const result = await createCommit(
    { state, cipherSuite: impl },
    { wireAsPublicMessage: true, extraProposals: proposals, ratchetTreeExtension: withWelcome },
  );
  const groupInfo = await groupInfoOf(result.newState, impl);
  const commit = encodeMlsMessage(result.commit);
  return withWelcome && result.welcome !== undefined
    ? {
        state: result.newState,
        commit,
        groupInfo,
        welcome: encodeMlsMessage({ version: 'mls10', wireformat: 'mls_welcome', welcome: result.welcome }),
      }
    : { state: result.newState, commit, groupInfo };
}

/** The state after another member's commit; throws when the commit does not process. */
export async function processCommit(
  state: ClientState,
  pm: PublicMessage,
  impl: CiphersuiteImpl,
): Promise<ClientState> {
  return (await processPublicMessage(state, pm, emptyPskIndex, impl)).newState;
}

/** An application message (a PrivateMessage) carrying `content`, and the state after it. */
export async function sealAppMessage(
  state: ClientState,
  content: AppMessage,
  impl: CiphersuiteImpl,
): Promise<{ state: ClientState; message: Uint8Array }> {
  const result = await createApplicationMessage(state, encodeAppMessage(content), impl);
  const message = encodeMlsMessage({
    version: 'mls10',
    wireformat: 'mls_private_message',
    privateMessage: result.privateMessage,
  });
  return { state: result.newState, message };
}

/** What an application message said and who (by MLS sender data) sent it. */
export interface OpenedAppMessage {
  /** The state after the message (its ratchet advanced), whatever it contained. */
  state: ClientState;
  /** Undefined when it was no valid envelope or its sender's leaf names no user. */
  content: { from: { leafIndex: number; userId: string }; message: AppMessage } | undefined;
}

/**
 * Decrypts an application message of the current epoch or of one still held in the state's history.
 * Undefined when it cannot be read at all (unknown epoch, undecryptable sender data).
 */
export async function openAppMessage(
  state: ClientState,
  pm: PrivateMessage,
  impl: CiphersuiteImpl,
): Promise<OpenedAppMessage | undefined> {
  const epochData =
    pm.epoch === state.groupContext.epoch
      ? { senderDataSecret: state.keySchedule.senderDataSecret, ratchetTree: state.ratchetTree }
      : state.historicalReceiverData.get(pm.epoch);
  if (epochData === undefined) return undefined;
  const sender = await decryptSenderData(pm, epochData.senderDataSecret, impl);
  if (sender === undefined) return undefined;
  const result = await processPrivateMessage(state, pm, emptyPskIndex, impl);
  if (result.kind !== 'applicationMessage') return { state: result.newState, content: undefined };
  const leaf = epochData.ratchetTree[sender.leafIndex * 2];
  const userId =
    leaf?.nodeType === 'leaf' && leaf.leaf.credential.credentialType === 'basic'
      ? userIdOf(leaf.leaf.credential.identity)
      : undefined;
  const message = decodeAppMessage(result.message);
  return {
    state: result.newState,
    content:
      userId === undefined || message === undefined
        ? undefined
        : { from: { leafIndex: sender.leafIndex, userId }, message },
  };
}

/**
 * Everything the media layer needs for the epoch of `state`, with its SFrame base key exported.
 *
 * @param nk the SFrame AEAD's key length in bytes
 * @param ownKey this member's signature public key (its leaf is found by it)
 */
export async function exportEpochKeys(
  state: ClientState,
  impl: CiphersuiteImpl,
  nk: number,
  ownKey: Uint8Array | undefined,
): Promise<EpochKeys> {
  const members = membersOf(state);
  const roles = rolesOf(state.groupContext.extensions);
  const own = members.find((m) => ownKey !== undefined && bytesEqual(m.signatureKey, ownKey));
  return {
    epoch: state.groupContext.epoch,
    baseKey: await mlsExporter(
      state.keySchedule.exporterSecret,
      SFRAME_BASE_KEY_LABEL,
      new Uint8Array(0),
      nk,
      impl,
    ),
    nk,
    suite: state.groupContext.cipherSuite,
    ownLeafIndex: own?.leafIndex ?? state.privatePath.leafIndex,
    members,
    securityCode: securityCode(state.keySchedule.epochAuthenticator),
    hosts: roles === undefined ? [] : actingHosts(roles, members).map((m) => m.leafIndex),
    lobby: roles?.lobby ?? false,
    locked: roles?.locked ?? false,
  };
}

/** Whether the GroupInfo's tree still holds our own leaf (same key and user id): a resync. */
export function holdsLeafIn(info: GroupInfo, identity: StoredIdentity, userId: string): boolean {
  return (
    ratchetTreeFromExtension(info)?.some(
      (n) =>
        n?.nodeType === 'leaf' &&
        bytesEqual(n.leaf.signaturePublicKey, identity.signaturePublicKey) &&
        n.leaf.credential.credentialType === 'basic' &&
        userIdOf(n.leaf.credential.identity) === userId,
    ) ?? false
  );
}

/**
 * A group whose GroupInfo is not the shape a Conclave group has is not joined (group-info-limits.ts).
 *
 * @throws {KeyServiceError} 'forbidden', naming the problem
 */
export function requireJoinable(info: GroupInfo, byteLength: number, maxGroupInfoBytes: number): void {
  const tree = ratchetTreeFromExtension(info);
  const problem =
    tree === undefined
      ? 'it carries no ratchet tree'
      : groupInfoShapeProblem(info, tree, byteLength, maxGroupInfoBytes);
  if (problem !== undefined) {
    throw new KeyServiceError('forbidden', `the meeting's group cannot be joined safely: ${problem}`);
  }
}
