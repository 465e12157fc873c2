// Serves the built web app. Hashed assets are cached for a year; every page route gets index.html
// (the client routes). Paths are resolved inside the web root only.
import fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Routes the client renders itself: the home page and a meeting's page. */
const PAGE_ROUTE = /^\/(r\/[a-z0-9][a-z0-9-]{2,63}\/?)?$/;

export class StaticFiles {
  readonly #root: string;

  constructor(root: string) {
    this.#root = path.resolve(root);
  }

  get available(): boolean {
    return fs.existsSync(path.join(this.#root, 'index.html'));
  }

  /** Answers the request when it names a file of the app or a page route; returns false otherwise. */
  serve(req: IncomingMessage, res: ServerResponse, pathname: string): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const file = PAGE_ROUTE.test(pathname) ? path.join(this.#root, 'index.html') : this.#resolve(pathname);
    if (file === undefined) return false;
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      return false;
    }
    if (!stat.isFile()) return false;
    const immutable = pathname.startsWith('/assets/');
    res.writeHead(200, {
      'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
      'Content-Length': stat.size,
      'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (req.method === 'HEAD') res.end();
    else fs.createReadStream(file).pipe(res);
    return true;
  }

  #resolve(pathname: string): string | undefined {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return undefined;
    }
    if (decoded.includes('\0')) return undefined;
    const file = path.resolve(this.#root, `.${path.posix.normalize(decoded)}`);
    return file.startsWith(this.#root + path.sep) ? file : undefined;
  }
}
