/**
 * `npm run bench:client-size`: the browser bundle of riptide/client's DeepstreamClient beside
 * @deepstream/client 7's, both bundled the same way (bench/lib/client-bundle.ts).
 */
import { bundleClient } from './lib/client-bundle.js'

const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`
const rows = [
  ['riptide/client DeepstreamClient', await bundleClient('riptide')],
  ['@deepstream/client 7 DeepstreamClient', await bundleClient('deepstream')],
] as const
console.log('| client | minified | minified + gzip |\n| --- | ---: | ---: |')
for (const [name, bundle] of rows) console.log(`| ${name} | ${kib(bundle.minifiedBytes)} | ${kib(bundle.gzippedBytes)} |`)
