// The key service's request handlers: what each request of a socket (sync, publish, commit, knock,
// deny, proposal, app, welcome, renew, turn) does to its room, once requests.ts has checked its
// acknowledgement, rate and schema. This is where the Delivery Service orders commits (exactly one
// per epoch) and the Authentication Service binds every credential to the socket's user.
//
// Must hold: a handler either throws a KeyServiceError (the request changes nothing) or does all it
// does; with the membership policy on, no refused commit, proposal or GroupInfo is relayed; commits
// and application messages reach only members.
import { verifyFramedContentSignature } from 'ts-mls/framedContent.js';
import { bytesEqual } from '@conclave/common/bytes';
import { KeyServiceError } from '../errors.ts';
import { judgeProposal, type Verdict } from '../membership-policy.ts';
import type { Requests } from '../protocol.ts';
import type { AuthenticatedUser, ServiceContext } from './context.ts';
import { Lobby, type StoredKnock } from './lobby.ts';
import {
  checkCommit,
  checkKeyPackage,
  checkNextGroupInfo,
  decodeWhole,
  judge,
  readGroupInfo,
  signerUserId,
  suiteImpl,
  verifies,
  type CheckedCommit,
  type GroupView,
} from './mls-checks.ts';
import type { KeyRoom, KeySocket } from './room.ts';
import type { SessionExpiry } from './session-expiry.ts';
import { KeyServiceStats } from './stats.ts';

/** How long after a host's removal commit the removed user's connections are dropped: long enough
 *  for the commit to reach them, so that their client learns from it who removed them. */
const REMOVED_BY_HOST_DROP_MS = 500;

export class RequestHandlers {
  readonly #ctx: ServiceContext;

  constructor(ctx: ServiceContext) {
    this.#ctx = ctx;
  }

  async sync(room: KeyRoom, socket: KeySocket): Promise<Requests['sync']['result']> {
    const cluster = this.#ctx.cluster;
    if (cluster !== undefined && room.view === undefined) await room.serialized(() => cluster.seed(room));
    const view = room.view;
    const member = !socket.data.lobbyOnly && room.isMember(socket.data.sub);
    return {
      epoch: view === undefined ? null : Number(view.epoch),
      groupInfo: view === undefined ? null : view.bytes,
      online: room.online(),
      knocks: member ? room.lobby.all().map(Lobby.public) : [],
      host: socket.data.host,
    };
  }

  async publish(
    room: KeyRoom,
    socket: KeySocket,
    args: { groupInfo: Uint8Array },
  ): Promise<{ epoch: number }> {
    const view = await readGroupInfo(
      args.groupInfo,
      this.#ctx.limits.maxGroupInfoBytes,
      this.#ctx.policyEnforced(),
    );
    if (signerUserId(view) !== socket.data.sub) {
      throw new KeyServiceError('forbidden', 'a GroupInfo is published by its signer');
    }
    this.#checkRoster(room, view.leaves.length);
    // In a cluster, a room new to this node continues the cluster's recorded group, if there is one.
    if (this.#ctx.cluster !== undefined) await this.#ctx.cluster.seed(room);
    const current = room.view;
    if (current === undefined) {
      // A new group (epoch 0) makes its creator the first host: only a host invite's session may.
      // A later epoch is a member re-publishing after a key-service restart.
      if (view.epoch === 0n && !socket.data.host && this.#ctx.policyEnforced()) {
        throw new KeyServiceError('forbidden', 'only a host creates the meeting; wait for the host');
      }
      room.view = view;
      room.emitToOutsiders('lobby-changed', {});
      this.#ctx.logger.info(
        { room: room.id, epoch: Number(view.epoch), members: view.leaves.length },
        'group published',
      );
      return { epoch: Number(view.epoch) };
    }
    if (bytesEqual(current.groupId, view.groupId) && current.epoch === view.epoch) {
      return { epoch: Number(current.epoch) };
    }
    throw new KeyServiceError(
      'invalid-state',
      'the room already has a group in another epoch',
      Number(current.epoch),
    );
  }

  async commit(
    room: KeyRoom,
    socket: KeySocket,
    args: { commit: Uint8Array; groupInfo: Uint8Array; welcome?: Uint8Array | undefined },
  ): Promise<{ epoch: number }> {
    const current = room.requireView();
    const sub = socket.data.sub;
    const checked = await checkCommit(current, args.commit, sub);
    const external = checked.facts.sender.senderType === 'new_member_commit';
    if (external && room.turns.heldByOther(socket)) {
      throw new KeyServiceError(
        'not-your-turn',
        'another joiner holds the turn; ask for yours',
        epochOf(current),
      );
    }
    const gone = (id: string) => room.isReportedGone(id) && !room.isOnline(id);
    // Judged first, so that what the commit itself does wrong is what the committer hears...
    this.#enforcePolicy(room, current, checked, gone);
    const admitted = this.#admittedKnocks(room, checked, args.welcome);
    const next = await readGroupInfo(
      args.groupInfo,
      this.#ctx.limits.maxGroupInfoBytes,
      this.#ctx.policyEnforced(),
    );
    await checkNextGroupInfo(current, checked.message, next, sub);
    this.#checkRoster(room, next.leaves.length);
    // ...and again last: who is gone is read at the moment the commit lands. Alone, no await follows;
    // in a cluster only the fence, which is what decides that it lands (cluster-gate.ts).
    const verdict = this.#enforcePolicy(room, current, checked, gone);
    if (this.#ctx.cluster !== undefined) await this.#ctx.cluster.fence(room, current, args.groupInfo);
    // Accepted: this is the one commit of its epoch.
    room.view = next;
    this.#ctx.stats.commits += 1;
    const epoch = Number(next.epoch);
    room.emitToMembers(current, 'commit', { epoch, commit: args.commit, from: sub }, socket);
    this.#ctx.logger.debug(
      { room: room.id, epoch, bytes: args.commit.byteLength, members: next.leaves.length },
      'commit accepted',
    );
    this.#welcomeAdmitted(room, admitted, args.welcome, sub);
    this.#afterRolesChange(room, current, next);
    this.#dropRemovedByHost(room, verdict);
    room.onNewEpoch();
    if (external) room.turns.end(socket);
    return { epoch };
  }

  /** Answers when this socket's turn at the external commit begins, with the group to join then. */
  async turn(room: KeyRoom, socket: KeySocket): Promise<Requests['turn']['result']> {
    await room.turns.wait(socket);
    const view = room.view;
    if (view === undefined || socket.disconnected) {
      room.turns.end(socket);
      throw new KeyServiceError('invalid-state', 'the room has no group yet; sync first');
    }
    return { epoch: epochOf(view), groupInfo: view.bytes };
  }

  /** The knocks a commit's Adds admit; with the policy on, every Add must answer a knock. */
  #admittedKnocks(room: KeyRoom, checked: CheckedCommit, welcome: Uint8Array | undefined): StoredKnock[] {
    const adds = checked.facts.commit.proposals.flatMap((p) =>
      p.proposalOrRefType === 'proposal' && p.proposal.proposalType === 'add' ? [p.proposal] : [],
    );
    if (adds.length === 0) {
      if (welcome !== undefined)
        throw new KeyServiceError('bad-request', 'a Welcome comes only with an admission');
      return [];
    }
    if (welcome === undefined) {
      if (!this.#ctx.policyEnforced()) return []; // relayed as a hostile server would, with nobody to welcome
      throw new KeyServiceError('bad-request', 'an admission carries the Welcome for the admitted');
    }
    if (decodeWhole(welcome).wireformat !== 'mls_welcome') {
      throw new KeyServiceError('bad-request', 'an admission carries the Welcome for the admitted');
    }
    const knocks: StoredKnock[] = [];
    for (const add of adds) {
      const knock = room.lobby.bySignatureKey(add.add.keyPackage.leafNode.signaturePublicKey);
      if (knock === undefined && this.#ctx.policyEnforced()) {
        throw new KeyServiceError(
          'forbidden',
          'refused by the membership policy: it admits someone who did not knock',
        );
      }
      if (knock !== undefined) knocks.push(knock);
    }
    return knocks;
  }

  #welcomeAdmitted(
    room: KeyRoom,
    admitted: StoredKnock[],
    welcome: Uint8Array | undefined,
    from: string,
  ): void {
    if (welcome === undefined) return;
    for (const knock of admitted) {
      room.lobby.delete(knock.id);
      room.admit(knock.socket);
      knock.socket.emit('welcome', { message: welcome, from });
      this.#ctx.namespace.to(room.channel).emit('presence', { online: room.online() });
      if (room.view !== undefined) room.emitToMembers(room.view, 'knock-gone', { id: knock.id });
    }
  }

  /** The lobby or lock changed: those waiting look again; a lock turns them all away. */
  #afterRolesChange(room: KeyRoom, before: GroupView, after: GroupView): void {
    const was = before.roles;
    const now = after.roles;
    if (was?.lobby === now?.lobby && was?.locked === now?.locked) return;
    if (now?.locked === true) {
      for (const knock of room.lobby.all()) {
        room.lobby.delete(knock.id);
        knock.socket.emit('denied', { reason: 'locked' });
        room.emitToMembers(after, 'knock-gone', { id: knock.id });
      }
    }
    room.emitToOutsiders('lobby-changed', {});
  }

  /** "Remove Bob": the commit took his keys; the server's half is to drop his connections. */
  #dropRemovedByHost(room: KeyRoom, verdict: Verdict | undefined): void {
    if (verdict === undefined || !verdict.allowed || verdict.removedByHost.length === 0) return;
    const userIds = [...new Set(verdict.removedByHost.map((l) => l.userId))];
    for (const id of userIds) room.removed.add(id);
    // After the commit has reached them, so that their client learns from it who removed them.
    this.#ctx.later(REMOVED_BY_HOST_DROP_MS, () => {
      this.#ctx.options.onRemovedByHost?.(room.id, userIds);
      for (const sock of [...room.sockets.values()])
        if (userIds.includes(sock.data.sub)) sock.disconnect(true);
    });
  }

  async knock(room: KeyRoom, socket: KeySocket, args: { keyPackage: Uint8Array }): Promise<{ id: string }> {
    const view = room.view;
    if (view === undefined)
      throw new KeyServiceError('invalid-state', 'the meeting has not started; wait for the host');
    if (room.isMember(socket.data.sub) && !socket.data.lobbyOnly) {
      throw new KeyServiceError('invalid-state', 'you are in the meeting already');
    }
    if (view.roles?.locked === true) throw new KeyServiceError('locked', 'This meeting is locked');
    if (view.roles?.lobby !== true)
      throw new KeyServiceError('invalid-state', 'the lobby is off: join directly');
    const signatureKey = await checkKeyPackage(args.keyPackage, view, socket.data.sub);
    const knock = room.lobby.knock(socket, args.keyPackage, signatureKey);
    room.emitToMembers(view, 'knock', Lobby.public(knock));
    this.#ctx.logger.debug({ room: room.id, user: socket.data.sub }, 'knocked');
    return { id: knock.id };
  }

  async deny(room: KeyRoom, socket: KeySocket, args: { id: string }): Promise<Record<string, never>> {
    const view = room.requireView();
    if (!room.isHost(socket.data.sub)) throw new KeyServiceError('forbidden', 'only a host answers a knock');
    const knock = room.lobby.get(args.id);
    if (knock === undefined) throw new KeyServiceError('invalid-state', 'nobody is waiting with that knock');
    room.lobby.delete(knock.id);
    knock.socket.emit('denied', { reason: 'denied' });
    room.emitToMembers(view, 'knock-gone', { id: knock.id });
    return {};
  }

  async proposal(
    room: KeyRoom,
    socket: KeySocket,
    args: { message: Uint8Array },
  ): Promise<Record<string, never>> {
    const current = room.requireView();
    const message = decodeWhole(args.message);
    if (
      message.wireformat !== 'mls_public_message' ||
      message.publicMessage.content.contentType !== 'proposal'
    ) {
      throw new KeyServiceError('bad-request', 'proposals travel as MLS PublicMessages');
    }
    const pm = message.publicMessage;
    const content = pm.content;
    if (content.contentType !== 'proposal') throw new KeyServiceError('bad-request', 'expected a proposal');
    if (!bytesEqual(content.groupId, current.groupId))
      throw new KeyServiceError('bad-request', 'another group');
    if (content.epoch !== current.epoch) {
      throw new KeyServiceError(
        'stale-epoch',
        'the proposal is not for the current epoch',
        Number(current.epoch),
      );
    }
    if (content.sender.senderType !== 'member') {
      throw new KeyServiceError('forbidden', 'only members send proposals here');
    }
    const leafIndex = content.sender.leafIndex;
    const leaf = current.leaves.find((l) => l.leafIndex === leafIndex);
    if (leaf === undefined || leaf.userId !== socket.data.sub) {
      throw new KeyServiceError('forbidden', "the proposal's sender leaf is not this user's");
    }
    if (this.#ctx.policyEnforced()) {
      // Nothing in a meeting travels as a standalone proposal; relaying one would let a later commit
      // carry it by reference, out of sight of the commit checks.
      const violation = judgeProposal(content.proposal, leaf.userId);
      KeyServiceStats.count(this.#ctx.stats.policyRefusals, violation.code);
      throw new KeyServiceError('forbidden', `refused by the membership policy: ${violation.message}`);
    }
    const impl = await suiteImpl(current.suite);
    if (
      !(await verifies(() =>
        verifyFramedContentSignature(
          leaf.signatureKey,
          'mls_public_message',
          content,
          pm.auth,
          current.context,
          impl.signature,
        ),
      ))
    ) {
      throw new KeyServiceError('forbidden', 'the proposal signature does not verify');
    }
    socket
      .to(room.channel)
      .emit('proposal', { epoch: Number(current.epoch), message: args.message, from: socket.data.sub });
    return {};
  }

  async app(room: KeyRoom, socket: KeySocket, args: { message: Uint8Array }): Promise<Record<string, never>> {
    const current = room.requireView();
    if (!room.isMember(socket.data.sub))
      throw new KeyServiceError('not-member', 'only members send to the group');
    const message = decodeWhole(args.message);
    if (message.wireformat !== 'mls_private_message') {
      throw new KeyServiceError('bad-request', 'application messages travel as MLS PrivateMessages');
    }
    const pm = message.privateMessage;
    if (pm.contentType !== 'application')
      throw new KeyServiceError('bad-request', 'expected an application message');
    if (!bytesEqual(pm.groupId, current.groupId)) throw new KeyServiceError('bad-request', 'another group');
    // Messages sent just before a commit landed are still readable by members for a few epochs.
    if (pm.epoch > current.epoch || pm.epoch + 3n < current.epoch) {
      throw new KeyServiceError(
        'stale-epoch',
        'the message is for an epoch outside the window',
        Number(current.epoch),
      );
    }
    room.emitToMembers(
      current,
      'app',
      { epoch: Number(pm.epoch), message: args.message, from: socket.data.sub },
      socket,
    );
    return {};
  }

  async welcome(
    room: KeyRoom,
    socket: KeySocket,
    args: { to: string; message: Uint8Array },
  ): Promise<Record<string, never>> {
    room.requireView();
    if (!room.isMember(socket.data.sub))
      throw new KeyServiceError('not-member', 'only members send welcomes');
    if (decodeWhole(args.message).wireformat !== 'mls_welcome') {
      throw new KeyServiceError('bad-request', 'expected an MLS Welcome');
    }
    if (!room.isOnline(args.to)) throw new KeyServiceError('invalid-state', 'that user is not in the room');
    room.emitToUser(args.to, 'welcome', { message: args.message, from: socket.data.sub });
    return {};
  }

  /**
   * The membership policy's verdict; with the policy on, a refusal throws. A member may be removed
   * only once signaling has reported them gone and they have not returned, or by a host.
   */
  #enforcePolicy(
    room: KeyRoom,
    current: GroupView,
    checked: CheckedCommit,
    gone: (userId: string) => boolean,
  ): Verdict {
    const verdict = judge(current, checked, gone);
    if (verdict.allowed || !this.#ctx.policyEnforced()) return verdict;
    KeyServiceStats.count(this.#ctx.stats.policyRefusals, verdict.violation.code);
    this.#ctx.logger.info(
      { room: room.id, epoch: Number(current.epoch), code: verdict.violation.code },
      'commit refused by the membership policy',
    );
    throw new KeyServiceError('forbidden', `refused by the membership policy: ${verdict.violation.message}`);
  }

  /** A fresh token for the same room and user extends the socket's session. */
  async renew(
    socket: KeySocket,
    args: { token: string },
    expiry: SessionExpiry | undefined,
  ): Promise<{ expiresAt: number }> {
    let renewed: AuthenticatedUser;
    try {
      renewed = await this.#ctx.options.authenticate(args.token);
    } catch (error) {
      const code = (error as { code?: unknown } | undefined)?.code;
      throw new KeyServiceError(
        'unauthorized',
        code === 'token-expired' ? 'the token has expired' : 'invalid token',
      );
    }
    if (renewed.room !== socket.data.room || renewed.sub !== socket.data.sub) {
      throw new KeyServiceError('forbidden', 'a renewal keeps the room and user of the session');
    }
    if (renewed.exp !== undefined) expiry?.extend(renewed.exp);
    return { expiresAt: expiry?.expiresAtMs ?? 0 };
  }

  #checkRoster(_room: KeyRoom, size: number): void {
    if (size > this.#ctx.limits.maxMembersPerRoom)
      throw new KeyServiceError('forbidden', 'the group is too large');
  }
}

function epochOf(view: GroupView): number {
  return Number(view.epoch);
}
