// Bundles TypeScript for real browser pages in tests and benchmarks (never for the app: the app is
// built by Vite). esbuild comes with Vite; the bundle is returned as a string for page.route or
// addScriptTag, so nothing is written to disk and no production code path exists for tests.
import { build } from 'esbuild';

export interface BundleOptions {
  /** 'iife' for classic scripts and workers; 'esm' for `<script type="module">`. */
  format: 'iife' | 'esm';
}

export async function bundle(entry: string, { format }: BundleOptions): Promise<string> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format,
    platform: 'browser',
    target: 'es2022',
    sourcemap: 'inline',
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error(`esbuild produced nothing for ${entry}`);
  return output.text;
}
