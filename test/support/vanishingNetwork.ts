// A TCP relay between test clients and a server whose network can vanish: after `vanish()` no byte
// passes in either direction and no connection closes, as when a laptop lid shuts or a mobile
// network drops. Neither side gets a FIN or RST; only heartbeats can tell the peer is gone.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export class VanishingNetwork {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #vanished = false;

  private constructor(server: net.Server) {
    this.#server = server;
  }

  /** Relays connections on a free loopback port to `target` (http://host:port). */
  static async start(target: string): Promise<VanishingNetwork> {
    const { hostname, port } = new URL(target);
    const server = net.createServer();
    const network = new VanishingNetwork(server);
    server.on('connection', (client) => network.#relay(client, hostname, Number(port)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return network;
  }

  /** The URL clients use instead of the server's. */
  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** From now on nothing passes, and nothing is closed. */
  vanish(): void {
    this.#vanished = true;
    for (const socket of this.#sockets) socket.pause();
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #relay(client: net.Socket, host: string, port: number): void {
    const upstream = net.connect(port, host);
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    const forward = (from: net.Socket, to: net.Socket) =>
      from.on('data', (chunk: Buffer) => {
        if (!this.#vanished) to.write(chunk);
      });
    forward(client, upstream);
    forward(upstream, client);
    // Before the vanishing, a closed side closes the other, as a plain connection would.
    client.on('close', () => this.#vanished || upstream.destroy());
    upstream.on('close', () => this.#vanished || client.destroy());
  }
}
