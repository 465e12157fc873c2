// HTTPS material: the operator's certificate, or a self-signed one generated once and kept in the
// data directory (browsers need a secure context for cameras and insertable streams off localhost).
import fs from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { generate } from 'selfsigned';

export interface TlsMaterial {
  cert: string;
  key: string;
  selfSigned: boolean;
}

export async function loadTlsMaterial(options: {
  certFile: string | undefined;
  keyFile: string | undefined;
  dataDir: string;
  host: string;
}): Promise<TlsMaterial> {
  if (options.certFile !== undefined && options.keyFile !== undefined) {
    return {
      cert: fs.readFileSync(options.certFile, 'utf8'),
      key: fs.readFileSync(options.keyFile, 'utf8'),
      selfSigned: false,
    };
  }
  const certFile = path.join(options.dataDir, 'self-signed.crt');
  const keyFile = path.join(options.dataDir, 'self-signed.key');
  if (fs.existsSync(certFile) && fs.existsSync(keyFile)) {
    return {
      cert: fs.readFileSync(certFile, 'utf8'),
      key: fs.readFileSync(keyFile, 'utf8'),
      selfSigned: true,
    };
  }
  const altNames: Array<{ type: number; value?: string; ip?: string }> = [
    { type: 2, value: 'localhost' },
    { type: 7, ip: '127.0.0.1' },
  ];
  if (isIP(options.host) && options.host !== '127.0.0.1') altNames.push({ type: 7, ip: options.host });
  const pems = await generate([{ name: 'commonName', value: 'Conclave self-signed' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    days: 365,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'subjectAltName', altNames },
    ],
  } as Parameters<typeof generate>[1]);
  fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(keyFile, pems.private, { mode: 0o600 });
  fs.writeFileSync(certFile, pems.cert);
  return { cert: pems.cert, key: pems.private, selfSigned: true };
}
