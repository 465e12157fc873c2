// Cameras on demand, the client's state (web/src/lib/meeting/OnDemandCameras.ts): which camera to
// consume, resume, pause at the SFU or close, for any order of shown / hidden, announcements, ends
// and reconnections. The connection here records what the class asks of it and answers when told:
// it stands in for the SFU path, which the e2e and integration tests run for real.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  HIDDEN_CLOSE_MS,
  OnDemandCameras,
  nextCameraStep,
  type CameraConnection,
  type CameraState,
} from '../../../web/src/lib/meeting/OnDemandCameras.ts';

/** A promise and the means to settle it from the test. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** A connection that logs each call; `consume` waits for the test when `hold` is set. */
class RecordingConnection implements CameraConnection {
  readonly calls: string[] = [];
  hold = false;
  failConsume = false;
  readonly pending: Array<ReturnType<typeof deferred<{ consumerId: string; track: MediaStreamTrack }>>> = [];
  #next = 0;

  consume(peerId: string, producerId: string, layer: number | undefined) {
    this.calls.push(`consume ${peerId} ${producerId} layer=${layer ?? '-'}`);
    if (this.failConsume) return Promise.reject(new Error('refused'));
    const answer = { consumerId: `c${++this.#next}`, track: trackNamed(`t${this.#next}`) };
    if (!this.hold) return Promise.resolve(answer);
    const later = deferred<typeof answer>();
    this.pending.push(later);
    return later.promise.then(() => answer);
  }
  resume(consumerId: string) {
    this.calls.push(`resume ${consumerId}`);
    return Promise.resolve();
  }
  pause(consumerId: string) {
    this.calls.push(`pause ${consumerId}`);
    return Promise.resolve();
  }
  close(consumerId: string) {
    this.calls.push(`close ${consumerId}`);
    return Promise.resolve();
  }
  setLayer(consumerId: string, layer: number) {
    this.calls.push(`layer ${consumerId} ${layer}`);
  }
}

function trackNamed(id: string): MediaStreamTrack {
  return { id } as MediaStreamTrack;
}

let connection: RecordingConnection;
let shownTracks: Map<string, string | undefined>;
let cameras: OnDemandCameras;

/** Lets every queued step run. */
const settle = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
  connection = new RecordingConnection();
  shownTracks = new Map();
  cameras = new OnDemandCameras({ onTrack: (peerId, track) => shownTracks.set(peerId, track?.id) });
  cameras.attach(connection);
});
afterEach(() => vi.useRealTimers());

describe('nextCameraStep', () => {
  const base: CameraState = {
    announced: 'p1',
    consumer: undefined,
    shown: true,
    soon: false,
    expired: false,
    failed: undefined,
  };
  const consumer = (flowing: boolean, producerId = 'p1') => ({
    consumerId: 'c1',
    producerId,
    track: trackNamed('t'),
    flowing,
    layer: undefined,
  });

  it.each([
    ['shown, announced, none yet', base, 'consume'],
    ['shown, nothing announced', { ...base, announced: undefined }, undefined],
    ['shown, that camera failed', { ...base, failed: 'p1' }, undefined],
    ['shown, consumed, paused', { ...base, consumer: consumer(false) }, 'resume'],
    ['shown, flowing', { ...base, consumer: consumer(true) }, undefined],
    ['hidden, flowing', { ...base, shown: false, consumer: consumer(true) }, 'pause'],
    ['hidden, paused', { ...base, shown: false, consumer: consumer(false) }, undefined],
    ['hidden long, paused', { ...base, shown: false, expired: true, consumer: consumer(false) }, 'close'],
    ['hidden, none', { ...base, shown: false }, undefined],
    ['hidden, soon, none', { ...base, shown: false, soon: true }, 'consume'],
    ['hidden, soon, flowing', { ...base, shown: false, soon: true, consumer: consumer(true) }, 'pause'],
    [
      'hidden long, soon, paused',
      { ...base, shown: false, soon: true, expired: true, consumer: consumer(false) },
      undefined,
    ],
    ['hidden, soon, that camera failed', { ...base, shown: false, soon: true, failed: 'p1' }, undefined],
    ['shown and soon, none', { ...base, soon: true }, 'consume'],
    ['gone, still consumed', { ...base, announced: undefined, consumer: consumer(true) }, 'close'],
    ['replaced by another camera', { ...base, announced: 'p2', consumer: consumer(true) }, 'close'],
  ] as const)('%s: %s', (_name, state, step) => {
    expect(nextCameraStep(state)).toBe(step);
  });
});

describe('OnDemandCameras', () => {
  it('consumes and resumes an announced camera: everyone is shown until said otherwise', async () => {
    cameras.announce('bob', 'p1');
    await settle();
    expect(connection.calls).toEqual(['consume bob p1 layer=-', 'resume c1']);
    expect(shownTracks.get('bob')).toBe('t1');
  });

  it('does not consume the camera of someone hidden before it was announced', async () => {
    cameras.setShown('bob', false);
    cameras.announce('bob', 'p1');
    await settle();
    expect(connection.calls).toEqual([]);
    cameras.setShown('bob', true);
    await settle();
    expect(connection.calls).toEqual(['consume bob p1 layer=-', 'resume c1']);
  });

  it('pauses at once when hidden, closes after HIDDEN_CLOSE_MS, and consumes afresh when shown again', async () => {
    cameras.announce('bob', 'p1');
    await settle();
    cameras.setShown('bob', false);
    await settle();
    expect(connection.calls.slice(2)).toEqual(['pause c1']);
    expect(shownTracks.get('bob')).toBeUndefined(); // nothing counts it as on screen any more
    await vi.advanceTimersByTimeAsync(HIDDEN_CLOSE_MS - 1);
    expect(connection.calls.slice(2)).toEqual(['pause c1']);
    await vi.advanceTimersByTimeAsync(1);
    expect(connection.calls.slice(2)).toEqual(['pause c1', 'close c1']);
    cameras.setShown('bob', true);
    await settle();
    expect(connection.calls.slice(4)).toEqual(['consume bob p1 layer=-', 'resume c2']);
    expect(shownTracks.get('bob')).toBe('t2');
  });

  it('resumes the same consumer when shown again within HIDDEN_CLOSE_MS, and never closes it then', async () => {
    cameras.announce('bob', 'p1');
    await settle();
    cameras.setShown('bob', false);
    await vi.advanceTimersByTimeAsync(HIDDEN_CLOSE_MS / 2);
    cameras.setShown('bob', true);
    await vi.advanceTimersByTimeAsync(HIDDEN_CLOSE_MS * 2);
    expect(connection.calls.slice(2)).toEqual(['pause c1', 'resume c1']);
    expect(shownTracks.get('bob')).toBe('t1');
  });

  it('consumes a camera wanted soon and leaves it paused: showing it then takes one resume', async () => {
    cameras.setShown('bob', false);
    cameras.setSoon('bob', true);
    cameras.announce('bob', 'p1');
    await settle();
    expect(connection.calls).toEqual(['consume bob p1 layer=-']);
    expect(shownTracks.get('bob')).toBeUndefined();
    await vi.advanceTimersByTimeAsync(HIDDEN_CLOSE_MS * 2); // soon: never closed for being hidden
    expect(connection.calls).toEqual(['consume bob p1 layer=-']);
    cameras.setShown('bob', true);
    await settle();
    expect(connection.calls).toEqual(['consume bob p1 layer=-', 'resume c1']);
    expect(shownTracks.get('bob')).toBe('t1');
  });

  it('a camera no longer wanted soon, still hidden, is closed HIDDEN_CLOSE_MS later', async () => {
    cameras.announce('bob', 'p1');
    cameras.setShown('bob', false);
    cameras.setSoon('bob', true);
    await settle();
    expect(connection.calls).toEqual(['consume bob p1 layer=-']);
    cameras.setSoon('bob', false);
    await vi.advanceTimersByTimeAsync(HIDDEN_CLOSE_MS - 1);
    expect(connection.calls).toEqual(['consume bob p1 layer=-']);
    await vi.advanceTimersByTimeAsync(1);
    expect(connection.calls).toEqual(['consume bob p1 layer=-', 'close c1']);
  });

  it('a page turned from shown to soon pauses the camera and keeps its consumer', async () => {
    cameras.announce('bob', 'p1');
    await settle();
    cameras.setSoon('bob', true);
    cameras.setShown('bob', false);
    await vi.advanceTimersByTimeAsync(HIDDEN_CLOSE_MS * 2);
    expect(connection.calls).toEqual(['consume bob p1 layer=-', 'resume c1', 'pause c1']);
  });

  it('at the cap, a consume first closes a camera that is hidden and not wanted soon', async () => {
    cameras = new OnDemandCameras({
      onTrack: (peerId, track) => shownTracks.set(peerId, track?.id),
      maxConsumers: 2,
    });
    cameras.attach(connection);
    cameras.announce('bob', 'p1');
    cameras.announce('carol', 'p2');
    await settle();
    cameras.setShown('bob', false);
    cameras.setShown('carol', false);
    cameras.setSoon('carol', true);
    await settle();
    cameras.announce('dave', 'p3');
    await settle();
    expect(connection.calls.slice(4)).toEqual([
      'pause c1',
      'pause c2',
      'close c1',
      'consume dave p3 layer=-',
      'resume c3',
    ]);
    cameras.setShown('bob', true); // nothing left to close: the consume goes to the server, which judges it
    await settle();
    expect(connection.calls.slice(9)).toEqual(['consume bob p1 layer=-', 'resume c4']);
  });

  it('a page turn asks for the shown cameras before it pauses the hidden ones', async () => {
    cameras.announce('bob', 'p1');
    cameras.announce('carol', 'p2');
    cameras.setShown('carol', false);
    cameras.setSoon('carol', true);
    await settle();
    expect(connection.calls).toEqual(['consume bob p1 layer=-', 'consume carol p2 layer=-', 'resume c1']);
    cameras.setShown('bob', false);
    cameras.setShown('carol', true);
    await settle();
    expect(connection.calls.slice(3)).toEqual(['resume c2', 'pause c1']);
  });

  it('hidden and shown again before the pause goes out: no pause, the picture stays', async () => {
    cameras.announce('bob', 'p1');
    await settle();
    cameras.setShown('bob', false);
    cameras.setShown('bob', true);
    await vi.advanceTimersByTimeAsync(HIDDEN_CLOSE_MS * 2);
    expect(connection.calls).toEqual(['consume bob p1 layer=-', 'resume c1']);
    expect(shownTracks.get('bob')).toBe('t1');
  });

  it('is idempotent: the same report twice does nothing more', async () => {
    cameras.announce('bob', 'p1');
    cameras.setShown('bob', true);
    await settle();
    cameras.setShown('bob', false);
    cameras.setShown('bob', false);
    await settle();
    expect(connection.calls).toEqual(['consume bob p1 layer=-', 'resume c1', 'pause c1']);
  });

  it('shown and hidden quickly while the consumer is being made: never resumed, closed later', async () => {
    connection.hold = true;
    cameras.announce('bob', 'p1');
    await settle();
    cameras.setShown('bob', false);
    cameras.setShown('bob', true);
    cameras.setShown('bob', false);
    connection.pending[0]!.resolve({ consumerId: 'c1', track: trackNamed('t1') });
    await settle();
    expect(connection.calls).toEqual(['consume bob p1 layer=-']);
    expect(shownTracks.get('bob')).toBeUndefined();
    await vi.advanceTimersByTimeAsync(HIDDEN_CLOSE_MS);
    expect(connection.calls).toEqual(['consume bob p1 layer=-', 'close c1']);
  });

  it('closes a consumer whose camera went while it was being made, and shows nothing of it', async () => {
    connection.hold = true;
    cameras.announce('bob', 'p1');
    await settle();
    expect(cameras.gone('p1')).toBe('bob');
    connection.pending[0]!.resolve({ consumerId: 'c1', track: trackNamed('t1') });
    await settle();
    expect(connection.calls).toEqual(['consume bob p1 layer=-', 'close c1']);
    expect(shownTracks.get('bob')).toBeUndefined();
    expect(cameras.peerOf('p1')).toBeUndefined();
  });

  it('closes the consumer of a camera that ends, and consumes the next one', async () => {
    cameras.announce('bob', 'p1');
    await settle();
    cameras.gone('p1');
    await settle();
    cameras.announce('bob', 'p2');
    await settle();
    expect(connection.calls).toEqual([
      'consume bob p1 layer=-',
      'resume c1',
      'close c1',
      'consume bob p2 layer=-',
      'resume c2',
    ]);
  });

  it('consumes again when the server closed a consumer of a camera still on offer', async () => {
    cameras.announce('bob', 'p1');
    await settle();
    expect(cameras.consumerClosed('c1')).toBe(true);
    expect(cameras.consumerClosed('someone-elses')).toBe(false);
    await settle();
    expect(connection.calls).toEqual([
      'consume bob p1 layer=-',
      'resume c1',
      'consume bob p1 layer=-',
      'resume c2',
    ]);
  });

  it('after a reconnection, consumes again what is shown and not what is hidden; the old connection hears nothing more', async () => {
    connection.hold = true;
    cameras.announce('bob', 'p1');
    cameras.announce('carol', 'p2');
    await settle();
    cameras.setShown('carol', false);
    const old = connection;
    cameras.detach();
    old.pending.forEach((p, i) => p.resolve({ consumerId: `c${i + 1}`, track: trackNamed(`t${i + 1}`) }));
    await settle();
    expect(old.calls).toEqual(['consume bob p1 layer=-', 'consume carol p2 layer=-']);
    expect(shownTracks.size).toBe(0);

    connection = new RecordingConnection();
    cameras.attach(connection);
    cameras.announce('bob', 'p1');
    cameras.announce('carol', 'p2');
    await settle();
    expect(connection.calls).toEqual(['consume bob p1 layer=-', 'resume c1']);
    await vi.advanceTimersByTimeAsync(HIDDEN_CLOSE_MS * 2);
    expect(old.calls).toHaveLength(2);
  });

  it('asks for the last tile height’s layer: at consume, on change, and not twice', async () => {
    cameras.setLayer('bob', 1);
    cameras.announce('bob', 'p1');
    await settle();
    cameras.setLayer('bob', 1);
    cameras.setLayer('bob', 2);
    await settle();
    expect(connection.calls).toEqual(['consume bob p1 layer=1', 'resume c1', 'layer c1 2']);
  });

  it('applies a layer asked for while the consumer was being made', async () => {
    connection.hold = true;
    cameras.setLayer('bob', 0);
    cameras.announce('bob', 'p1');
    await settle();
    cameras.setLayer('bob', 2);
    connection.pending[0]!.resolve({ consumerId: 'c1', track: trackNamed('t1') });
    await settle();
    expect(connection.calls).toEqual(['consume bob p1 layer=0', 'resume c1', 'layer c1 2']);
  });

  it('does not retry a refused camera until it is shown afresh', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    connection.failConsume = true;
    cameras.announce('bob', 'p1');
    await settle();
    await vi.advanceTimersByTimeAsync(HIDDEN_CLOSE_MS);
    expect(connection.calls).toEqual(['consume bob p1 layer=-']);
    expect(warn).toHaveBeenCalledOnce();
    connection.failConsume = false;
    cameras.setShown('bob', false);
    cameras.setShown('bob', true);
    await settle();
    expect(connection.calls).toEqual(['consume bob p1 layer=-', 'consume bob p1 layer=-', 'resume c1']);
  });

  it('forgets a peer who left: their consumer closes and their tile state goes', async () => {
    cameras.announce('bob', 'p1');
    cameras.setShown('carol', false);
    await settle();
    cameras.forget('bob');
    cameras.forget('carol');
    await settle();
    expect(connection.calls).toEqual(['consume bob p1 layer=-', 'resume c1', 'close c1']);
    cameras.announce('carol', 'p2'); // a peer id is never reused; if it were, it starts shown
    await settle();
    expect(connection.calls.at(-1)).toBe('resume c2');
  });
});
