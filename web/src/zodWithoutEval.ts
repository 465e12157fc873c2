// zod compiles fast parsers with `new Function` when it may, and finds out by trying; under the
// server's Content-Security-Policy (no 'unsafe-eval') the try is a CSP violation the browser
// reports. Jitless mode parses the same without ever trying. Imported first by main.ts.
import { config } from 'zod';

config({ jitless: true });
