// A participant's network, as a test controls it: every websocket of the page (signaling and the
// key service, both socket.io) and every API request go through here, and can be cut (connections
// close, new ones are refused, as when a laptop drops off Wi-Fi) or black-holed (nothing passes and
// nothing closes, as when a network vanishes: only heartbeats can tell). WebRTC media is not
// routed: a rejoin sets up new transports anyway, and the old ones are closed.
import type { Page, WebSocketRoute } from '@playwright/test';

type Mode = 'up' | 'cut' | 'black-hole';

export class ParticipantNetwork {
  #mode: Mode = 'up';
  readonly #open = new Set<{ page: WebSocketRoute; server: WebSocketRoute }>();

  /** Routes the page's websockets and API calls; call before the page opens anything. */
  async install(page: Page): Promise<void> {
    await page.routeWebSocket(/\/socket\.io\//, (ws) => this.#onWebSocket(ws));
    await page.route(/\/api\//, (route) =>
      this.#mode === 'up' ? route.continue() : route.abort('internetdisconnected'),
    );
  }

  /** Closes every connection and refuses new ones until `restore()`. */
  cut(): void {
    this.#mode = 'cut';
    for (const pair of this.#open) {
      void pair.page.close().catch(() => undefined);
      void pair.server.close().catch(() => undefined);
    }
    this.#open.clear();
  }

  /** From now on nothing passes in either direction and nothing is closed. */
  blackHole(): void {
    this.#mode = 'black-hole';
  }

  restore(): void {
    this.#mode = 'up';
  }

  #onWebSocket(ws: WebSocketRoute): void {
    if (this.#mode === 'cut') {
      void ws.close().catch(() => undefined);
      return;
    }
    if (this.#mode === 'black-hole') return; // never answered: the page's connect attempt times out
    const server = ws.connectToServer();
    const pair = { page: ws, server };
    this.#open.add(pair);
    ws.onMessage((message) => {
      if (this.#mode === 'up') server.send(message);
    });
    server.onMessage((message) => {
      if (this.#mode === 'up') ws.send(message);
    });
    ws.onClose(() => {
      this.#open.delete(pair);
      void server.close().catch(() => undefined);
    });
    server.onClose(() => {
      this.#open.delete(pair);
      void ws.close().catch(() => undefined);
    });
  }
}
