// One person of a large room, as the bench runs them: the real KeyClient joins the room's MLS group
// through the real key service, and a plain '/keys' socket of the same session (the observer) keeps
// the person present and notes when each commit reaches them.
//
// After joining, most members go passive: their KeyClient closes, so their device's processing of
// later commits is not simulated (a hundred members processing every commit is O(n²) work that real
// people do on a hundred devices, not on the generator's two cores), while the observer still holds
// their presence and receives every commit the key service fans out. Members that stay full process
// every commit; the convergence check and the processing figures come from them.
import { io, type Socket } from 'socket.io-client';
import type { CryptoProvider } from 'ts-mls';
import { KeyClient, type EpochKeys } from '@conclave/key-service/client';
import { deviceAddress } from '../load/apiClient.ts';

export interface MemberContext {
  url: string;
  room: string;
  mintToken: (userId: string, host: boolean) => Promise<string>;
  /** Anything that went wrong, by kind (counted as errors of the run). */
  report: (kind: string, message: string) => void;
}

export class RoomMember {
  readonly userId: string;
  /** performance.now() when each epoch's commit reached the observer. */
  readonly commitArrivals = new Map<number, number>();
  /** performance.now() when the KeyClient held each epoch (full members). */
  readonly epochsHeld = new Map<number, number>();
  readonly #ctx: MemberContext;
  readonly #observer: Socket;
  readonly #token: string;
  readonly #localAddress: string;
  #keys: KeyClient | undefined;
  #closed = false;

  private constructor(
    ctx: MemberContext,
    userId: string,
    token: string,
    observer: Socket,
    localAddress: string,
  ) {
    this.#ctx = ctx;
    this.userId = userId;
    this.#token = token;
    this.#observer = observer;
    this.#localAddress = localAddress;
    observer.on('commit', ({ epoch }: { epoch: number }) =>
      this.commitArrivals.set(epoch, performance.now()),
    );
  }

  /** Opens the observer socket for person `device` (its own loopback address: per-address caps). */
  static async connect(ctx: MemberContext, device: number, host = false): Promise<RoomMember> {
    const userId = `large-${String(device).padStart(5, '0')}`;
    const token = await ctx.mintToken(userId, host);
    const localAddress = deviceAddress(device);
    const observer = io(ctx.url, {
      transports: ['websocket'],
      auth: { token },
      reconnection: false,
      forceNew: true,
      localAddress,
    } as Parameters<typeof io>[1]);
    await new Promise<void>((resolve, reject) => {
      observer.once('connect', () => resolve());
      observer.once('connect_error', reject);
    });
    return new RoomMember(ctx, userId, token, observer, localAddress);
  }

  get keys(): EpochKeys | undefined {
    return this.#keys?.current;
  }

  /** Joins (or, as the host, creates) the group; resolves with ms from start to holding an epoch. */
  async join(cryptoProvider: CryptoProvider | undefined): Promise<number> {
    const keys = new KeyClient({
      url: this.#ctx.url,
      token: () => this.#token,
      userId: this.userId,
      socketOptions: { localAddress: this.#localAddress } as Record<string, unknown>,
      requestTimeoutMs: 60_000,
      ...(cryptoProvider === undefined ? {} : { cryptoProvider }),
    });
    this.#keys = keys;
    keys.on('epoch', (k) => this.epochsHeld.set(Number(k.epoch), performance.now()));
    // Only while this client is the member's: tasks cut short by going passive are no failure.
    const problem = (kind: string, message: string) => {
      if (this.#keys === keys && !this.#closed) this.#ctx.report(kind, `${this.userId}: ${message}`);
    };
    keys.on('warning', ({ message }) => problem('mls:warning', message));
    keys.on('out-of-sync', ({ message }) => problem('mls:out-of-sync', message));
    keys.on('removed', () => problem('mls:removed', 'removed from the group while present'));
    const t0 = performance.now();
    await keys.start();
    return performance.now() - t0;
  }

  /** Stops simulating this member's device (see the file comment); the observer stays. */
  goPassive(): void {
    this.#keys?.close();
    this.#keys = undefined;
  }

  /** A full member commits an empty update (fresh path secrets); resolves once accepted. */
  async rekey(): Promise<void> {
    if (this.#keys === undefined) throw new Error('a passive member cannot commit');
    if (!(await this.#keys.rekey())) throw new Error('the rekey lost its epoch to another commit');
  }

  /** The room's epoch as the key service has it. */
  async serviceEpoch(): Promise<number | null> {
    const ack = (await this.#observer.timeout(30_000).emitWithAck('sync', {})) as {
      ok: boolean;
      result?: { epoch: number | null };
    };
    return ack.result?.epoch ?? null;
  }

  close(): void {
    this.#closed = true;
    this.#keys?.close();
    this.#observer.disconnect();
  }
}
