// Serving the built web app (server/src/http/staticFiles.ts): page routes, assets, and nothing outside the web root.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StaticFiles } from '../../../server/src/http/staticFiles.ts';

const INDEX = '<!doctype html><title>Conclave</title>';
const ASSET = 'console.log("app");';
const BUILD_MANIFEST = '{"bundleSha256":"00"}\n';

let tmp: string;
let root: string;
let server: http.Server;
let port: number;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'conclave-static-'));
  root = path.join(tmp, 'web');
  fs.mkdirSync(path.join(root, 'assets', 'nested'), { recursive: true });
  fs.writeFileSync(path.join(root, 'index.html'), INDEX);
  fs.writeFileSync(path.join(root, 'assets', 'app-3f2a.js'), ASSET);
  fs.writeFileSync(path.join(root, 'assets', 'blob.bin'), Buffer.from([0, 1, 2]));
  fs.writeFileSync(path.join(root, 'robots.txt'), 'User-agent: *');
  // What `npm run build` writes (web/buildHash.ts): served for auditors to compare with their own build.
  fs.mkdirSync(path.join(root, '.well-known'));
  fs.writeFileSync(path.join(root, '.well-known', 'conclave-build.json'), BUILD_MANIFEST);
  // Files a traversal would reach: beside the web root, and in a sibling whose name extends the root's.
  fs.writeFileSync(path.join(tmp, 'secret.txt'), 'OUTSIDE');
  fs.mkdirSync(path.join(tmp, 'web-private'));
  fs.writeFileSync(path.join(tmp, 'web-private', 'secret.txt'), 'OUTSIDE');
  const files = new StaticFiles(root);
  // The raw request path goes to serve() unnormalised, as an attacker would send it; declined requests get 404.
  server = http.createServer((req, res) => {
    if (!files.serve(req, res, (req.url ?? '/').split('?')[0] ?? '/')) {
      res.writeHead(404);
      res.end('declined');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A raw HTTP request: unlike fetch, it sends the path exactly as given (no dot-segment removal). */
function request(
  rawPath: string,
  method = 'GET',
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: rawPath, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('StaticFiles', () => {
  it('is available when the web root holds index.html', () => {
    expect(new StaticFiles(root).available).toBe(true);
    expect(new StaticFiles(path.join(tmp, 'web-private')).available).toBe(false);
  });

  it.each(['/', '/r/abc-defg-hij', '/r/abc-defg-hij/', '/r/team-standup'])(
    'serves index.html for the page route %s',
    async (route) => {
      const res = await request(route);
      expect(res.status).toBe(200);
      expect(res.body).toBe(INDEX);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-cache');
    },
  );

  it('serves a hashed asset with its type and a long, immutable cache lifetime', async () => {
    const res = await request('/assets/app-3f2a.js');
    expect(res.status).toBe(200);
    expect(res.body).toBe(ASSET);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(ASSET)));
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('serves other files uncached, with a fallback type', async () => {
    const robots = await request('/robots.txt');
    expect(robots).toMatchObject({ status: 200, body: 'User-agent: *' });
    expect(robots.headers['cache-control']).toBe('no-cache');
    expect((await request('/assets/blob.bin')).headers['content-type']).toBe('application/octet-stream');
    expect((await request('/index.html')).body).toBe(INDEX);
  });

  it('serves the build manifest at /.well-known/conclave-build.json as uncached JSON', async () => {
    const res = await request('/.well-known/conclave-build.json');
    expect(res).toMatchObject({ status: 200, body: BUILD_MANIFEST });
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect((await request('/.well-known/conclave-build.json', 'HEAD')).status).toBe(200);
  });

  it('answers HEAD with the headers and no body', async () => {
    const res = await request('/assets/app-3f2a.js', 'HEAD');
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength(ASSET)));
  });

  it('declines other methods', async () => {
    for (const method of ['POST', 'PUT', 'DELETE']) expect((await request('/', method)).status).toBe(404);
  });

  it.each([
    '/../secret.txt',
    '/../../../../../../etc/passwd',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E/secret.txt',
    '/assets/%2e%2e/%2e%2e/secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/..%2f..%2fsecret.txt',
    '/../web-private/secret.txt',
    '/%2e%2e/web-private/secret.txt',
  ])('refuses the traversal %s', async (rawPath) => {
    const res = await request(rawPath);
    // 'declined' proves the request reached serve() and was refused there, not by the HTTP parser.
    expect(res).toMatchObject({ status: 404, body: 'declined' });
  });

  it('refuses NUL bytes and malformed escapes', async () => {
    for (const rawPath of [
      '/index.html%00',
      '/index.html%00.js',
      '/assets/app-3f2a.js%00',
      '/%E0%A4%A',
      '/%',
    ]) {
      expect(await request(rawPath)).toMatchObject({ status: 404, body: 'declined' });
    }
  });

  it('refuses directories and missing files', async () => {
    for (const rawPath of ['/assets', '/assets/', '/assets/nested', '/missing.js', '/r/Bad_Room']) {
      expect(await request(rawPath)).toMatchObject({ status: 404, body: 'declined' });
    }
  });

  it('serves nothing when the web app is not built', async () => {
    const empty = new StaticFiles(path.join(tmp, 'not-built'));
    const res = { writeHead: () => res, end: () => res } as unknown as http.ServerResponse;
    const req = { method: 'GET' } as http.IncomingMessage;
    expect(empty.serve(req, res, '/')).toBe(false);
    expect(empty.serve(req, res, '/assets/app-3f2a.js')).toBe(false);
  });
});
