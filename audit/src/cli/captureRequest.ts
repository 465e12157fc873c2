// The capture command's conversation with the server: POST the capture request to
// /api/audit/captures, then follow the response's event stream (newline-delimited JSON, one event a
// line, captureProtocol.ts) until the server ends the capture, the auditor interrupts it (Ctrl-C),
// or the connection breaks. A refusal (any status but 200) becomes a UsageError with the server's
// `{ code, message }`.
//
// What must hold: the request body (which holds the audit token) is sent and never printed; a line
// that is not JSON ends the conversation as `broken`, never as a capture that ended well.
import http from 'node:http';
import https from 'node:https';
import {
  AUDIT_CAPTURE_PATH,
  type CaptureEnd,
  type CaptureEvent,
  type CaptureRequest,
  type CapturedStream,
} from '../captureProtocol.ts';
import { UsageError } from './usageError.ts';

/** How a capture went, as far as the CLI saw it. */
export interface CaptureOutcome {
  streams: CapturedStream[];
  /** The server's reason, or `interrupted` (Ctrl-C), or `broken` (the connection ended without one). */
  ended: CaptureEnd | 'interrupted' | 'broken';
}

/** Reads the server's refusal: `{ code, message }`. */
function refusal(status: number | undefined, body: string): UsageError {
  let json: { code?: string; message?: string };
  try {
    json = JSON.parse(body) as typeof json;
  } catch {
    return new UsageError('server-refused', `the server answered ${status} with a body that is not JSON`);
  }
  return new UsageError(
    'server-refused',
    `the server refused the capture: ${json.message ?? 'no reason given'} (${json.code ?? status})`,
  );
}

/**
 * POSTs the capture request and follows its event stream; resolves when the capture ends (or is
 * interrupted, or the connection breaks), rejects when the server refuses or cannot be reached.
 */
export function requestCapture(
  origin: string,
  body: CaptureRequest,
  ca: string | undefined,
  onStarted: () => void,
): { done: Promise<CaptureOutcome>; interrupt: () => void } {
  const url = new URL(AUDIT_CAPTURE_PATH, origin);
  const text = JSON.stringify(body);
  const options: https.RequestOptions = {
    method: 'POST',
    // No pooled keep-alive socket: the CLI exits as soon as the capture is written.
    agent: false,
    headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) },
    ...(ca === undefined ? {} : { ca }),
  };
  const outcome: CaptureOutcome = { streams: [], ended: 'broken' };
  let interrupted = false;
  let request: http.ClientRequest;
  const done = new Promise<CaptureOutcome>((resolve, reject) => {
    request = (url.protocol === 'https:' ? https : http).request(url, options, (response) => {
      let buffered = '';
      response.setEncoding('utf8');
      if (response.statusCode !== 200) {
        response.on('data', (chunk: string) => (buffered += chunk));
        response.on('end', () => reject(refusal(response.statusCode, buffered)));
        return;
      }
      onStarted();
      response.on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          if (line.trim() === '') continue;
          let event: CaptureEvent;
          try {
            event = JSON.parse(line) as CaptureEvent;
          } catch {
            // Not the protocol: stop here, and say the capture broke off.
            response.destroy();
            return;
          }
          if (event.type === 'stream') outcome.streams.push(event.stream);
          else outcome.ended = event.ended;
        }
      });
      response.on('close', () => {
        if (interrupted) outcome.ended = 'interrupted';
        resolve(outcome);
      });
    });
    request.on('error', (error) => {
      if (interrupted) return resolve({ ...outcome, ended: 'interrupted' });
      reject(
        new UsageError(
          'server-unreachable',
          `cannot reach the server at ${origin}: ${(error as NodeJS.ErrnoException).code ?? error.message}`,
        ),
      );
    });
    request.end(text);
  });
  return {
    done,
    interrupt: () => {
      interrupted = true;
      request.destroy();
    },
  };
}
