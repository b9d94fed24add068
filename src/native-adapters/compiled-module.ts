/**
 * Where the compiled build lives, for code that starts a thread or a
 * process on one of its modules. Such code runs compiled (from dist/) in
 * production and benches, and from source in tests; either way the thread
 * or process must load the compiled JavaScript.
 */
import { dirname, join, resolve, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

/** The repository (package) root: this file is src/native-adapters, or dist/src/native-adapters. */
export const PACKAGE_ROOT = resolve(here, here.includes(`${sep}dist${sep}`) ? '../../..' : '../..')

/** The file URL of a compiled module, by its path under src/ (e.g. `workers/serve-thread.js`). */
export function compiledModule (pathUnderSrc: string): URL {
  return pathToFileURL(join(PACKAGE_ROOT, 'dist', 'src', pathUnderSrc))
}
