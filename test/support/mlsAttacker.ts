// A hostile meeting participant built from raw protocol pieces: ts-mls for the group, socket.io-client
// for the key service. Nothing of Conclave's own KeyClient is used, so none of its checks can hide a
// key service that relays what it should refuse.
//
// The attacker holds an ordinary session (for her own user id, or, as the server's operator, for any)
// and joins by external commit as any participant does. Then she sends what an honest client never
// would: Adds of ghost leaves whose keys she holds, Removes of members who are still here, standalone
// proposals and commits that carry them by reference, GroupContextExtensions, padded GroupInfos.
import {
  createCommit,
  createGroupInfoWithExternalPubAndRatchetTree,
  createProposal,
  decodeMlsMessage,
  defaultLifetime,
  encodeMlsMessage,
  generateKeyPackage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  emptyPskIndex,
  joinGroup,
  joinGroupExternal,
  mlsExporter,
  type CiphersuiteImpl,
  type ClientState,
  type Extension,
  type GroupInfo,
  type KeyPackage,
  type PrivateKeyPackage,
  type Proposal,
} from 'ts-mls';
import { io, type Socket } from 'socket.io-client';
import { memberCapabilities } from '@conclave/key-service/capabilities';

const enc = new TextEncoder();
const SUITE = 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519';

export interface KeyServiceAnswer {
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string; epoch?: number };
}

export class MlsAttacker {
  readonly socket: Socket;
  readonly userId: string;
  readonly impl: CiphersuiteImpl;
  state: ClientState | undefined;

  private constructor(socket: Socket, userId: string, impl: CiphersuiteImpl) {
    this.socket = socket;
    this.userId = userId;
    this.impl = impl;
  }

  /** Connects to the key-service namespace URL (e.g. http://127.0.0.1:port/keys) with a session token. */
  static async connect(url: string, token: string, userId: string): Promise<MlsAttacker> {
    const socket = io(url, {
      transports: ['websocket'],
      auth: { token },
      reconnection: false,
      forceNew: true,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return new MlsAttacker(socket, userId, await getCiphersuiteImpl(getCiphersuiteFromName(SUITE)));
  }

  request(event: string, payload: unknown): Promise<KeyServiceAnswer> {
    return this.socket.timeout(10_000).emitWithAck(event, payload) as Promise<KeyServiceAnswer>;
  }

  async groupInfo(): Promise<GroupInfo> {
    const answer = await this.request('sync', {});
    const bytes = (answer.result as { groupInfo: ArrayBuffer | Uint8Array } | undefined)?.groupInfo;
    if (bytes === undefined) throw new Error(`no GroupInfo: ${answer.error?.message ?? 'empty room'}`);
    const decoded = decodeMlsMessage(new Uint8Array(bytes), 0)?.[0];
    if (decoded?.wireformat !== 'mls_group_info') throw new Error('expected a GroupInfo');
    return decoded.groupInfo;
  }

  /** A KeyPackage for `identity` whose private keys the attacker keeps. */
  async keyPackage(
    identity: string,
  ): Promise<{ publicPackage: KeyPackage; privatePackage: PrivateKeyPackage }> {
    return generateKeyPackage(
      { credentialType: 'basic', identity: enc.encode(identity) },
      memberCapabilities(),
      defaultLifetime,
      [],
      this.impl,
    );
  }

  /** Joins the room's group by external commit, as any participant does when the lobby is off.
   *  `exporter` is the SFrame base key of the epoch the join creates: what the joiner holds. */
  async join(): Promise<KeyServiceAnswer & { exporter: Uint8Array }> {
    const kp = await generateKeyPackage(
      { credentialType: 'basic', identity: enc.encode(this.userId) },
      memberCapabilities(),
      defaultLifetime,
      [],
      this.impl,
    );
    const { publicMessage, newState } = await joinGroupExternal(
      await this.groupInfo(),
      kp.publicPackage,
      kp.privatePackage,
      false,
      this.impl,
    );
    const commit = encodeMlsMessage({ version: 'mls10', wireformat: 'mls_public_message', publicMessage });
    const answer = await this.request('commit', { commit, groupInfo: await this.#groupInfoOf(newState) });
    if (answer.ok) this.state = newState;
    return { ...answer, exporter: await sframeBaseKey(newState, this.impl) };
  }

  /** Commits `proposals` as a member (with a path); on acceptance the attacker moves to that epoch. */
  async commit(
    proposals: Proposal[],
    options: { groupInfoExtensions?: Extension[] } = {},
  ): Promise<KeyServiceAnswer & { exporter: Uint8Array }> {
    const state = this.#requireState();
    const result = await createCommit(
      { state, cipherSuite: this.impl },
      { wireAsPublicMessage: true, extraProposals: proposals },
    );
    const answer = await this.request('commit', {
      commit: encodeMlsMessage(result.commit),
      groupInfo: await this.#groupInfoOf(result.newState, options.groupInfoExtensions),
    });
    if (answer.ok) this.state = result.newState;
    // What a member of the new epoch derives as the SFrame base key: what a ghost would hold.
    return { ...answer, exporter: await sframeBaseKey(result.newState, this.impl) };
  }

  /** Sends a standalone proposal; it stays in the attacker's state for a later by-reference commit. */
  async propose(proposal: Proposal): Promise<KeyServiceAnswer> {
    const { newState, message } = await createProposal(this.#requireState(), true, proposal, this.impl);
    this.state = newState;
    return this.request('proposal', { message: encodeMlsMessage(message) });
  }

  /** The MLSMessage encoding of a KeyPackage, as a knock carries it. */
  static encodeKeyPackage(keyPackage: KeyPackage): Uint8Array {
    return encodeMlsMessage({ version: 'mls10', wireformat: 'mls_key_package', keyPackage });
  }

  /** Joins by a Welcome (an honest host admitted this KeyPackage). */
  async acceptWelcome(
    bytes: Uint8Array,
    kp: { publicPackage: KeyPackage; privatePackage: PrivateKeyPackage },
  ): Promise<void> {
    const decoded = decodeMlsMessage(bytes, 0)?.[0];
    if (decoded?.wireformat !== 'mls_welcome') throw new Error('expected a Welcome');
    this.state = await joinGroup(
      decoded.welcome,
      kp.publicPackage,
      kp.privatePackage,
      emptyPskIndex,
      this.impl,
    );
  }

  /** The signature key of the attacker's own leaf. */
  get signatureKey(): Uint8Array | undefined {
    const state = this.state;
    if (state === undefined) return undefined;
    const node = state.ratchetTree[state.privatePath.leafIndex * 2];
    return node?.nodeType === 'leaf' ? node.leaf.signaturePublicKey : undefined;
  }

  /** An Add of a leaf whose credential names `identity` but whose keys the attacker holds. */
  async ghostAdd(identity: string): Promise<Proposal> {
    return { proposalType: 'add', add: { keyPackage: (await this.keyPackage(identity)).publicPackage } };
  }

  /** The leaf indexes of `userId` in the attacker's current tree. */
  leavesOf(userId: string): number[] {
    const leaves: number[] = [];
    this.#requireState().ratchetTree.forEach((node, i) => {
      if (i % 2 !== 0 || node?.nodeType !== 'leaf' || node.leaf.credential.credentialType !== 'basic') return;
      if (new TextDecoder().decode(node.leaf.credential.identity) === userId) leaves.push(i / 2);
    });
    return leaves;
  }

  get epoch(): bigint {
    return this.#requireState().groupContext.epoch;
  }

  close(): void {
    this.socket.disconnect();
  }

  async #groupInfoOf(state: ClientState, extensions: Extension[] = []): Promise<Uint8Array> {
    const groupInfo = await createGroupInfoWithExternalPubAndRatchetTree(state, extensions, this.impl);
    return encodeMlsMessage({ version: 'mls10', wireformat: 'mls_group_info', groupInfo });
  }

  #requireState(): ClientState {
    if (this.state === undefined) throw new Error('the attacker has not joined');
    return this.state;
  }
}

/** What a member of `state`'s epoch derives as the SFrame base key (RFC 9605 §5.2). */
export function sframeBaseKey(state: ClientState, impl: CiphersuiteImpl): Promise<Uint8Array> {
  return mlsExporter(state.keySchedule.exporterSecret, 'SFrame 1.0 Base Key', new Uint8Array(0), 16, impl);
}

/** A Remove proposal for one leaf. */
export function removeLeaf(leafIndex: number): Proposal {
  return { proposalType: 'remove', remove: { removed: leafIndex } };
}

/** A GroupContextExtensions proposal with an extension no Conclave client supports. */
export function unknownContextExtension(): Proposal {
  return {
    proposalType: 'group_context_extensions',
    groupContextExtensions: { extensions: [{ extensionType: 0xff00, extensionData: new Uint8Array(8) }] },
  };
}
