/**
 * A browser bundle of a client, as an app's bundler would make it: esbuild, for the browser
 * platform (a Node built-in anywhere in the client fails the build), ES module, minified. Used by
 * `npm run bench:client-size` and by the browser test, which loads the bundle in Chromium.
 */
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { PACKAGE_ROOT } from '../../src/native-adapters/compiled-module.js'

export interface ClientBundle {
  readonly code: string
  readonly minifiedBytes: number
  readonly gzippedBytes: number
}

/** riptide/client's DeepstreamClient from the build (dist), or @deepstream/client's. */
export const CLIENT_ENTRIES = {
  riptide: "export { DeepstreamClient } from './dist/src/client/index.js'",
  deepstream: "export { DeepstreamClient } from '@deepstream/client'",
} as const

export async function bundleClient (entry: keyof typeof CLIENT_ENTRIES): Promise<ClientBundle> {
  const result = await build({
    stdin: { contents: CLIENT_ENTRIES[entry], resolveDir: PACKAGE_ROOT, loader: 'js' },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    minify: true,
    write: false,
    logLevel: 'silent',
  })
  const code = result.outputFiles[0]?.text ?? ''
  return { code, minifiedBytes: Buffer.byteLength(code), gzippedBytes: gzipSync(code, { level: 9 }).length }
}
