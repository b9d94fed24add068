/**
 * A riptide server in a child process, started through the real CLI, so a
 * load generator (or a test) and the server do not share an event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { compiledModule } from '../../src/native-adapters/compiled-module.js'

const CLI = fileURLToPath(compiledModule('main/cli.js'))

export interface ChildServer {
  readonly port: number
  readonly process: ChildProcess
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  readonly exited: Promise<number | string>
  /** What the server printed until it listened. */
  readonly startOutput: string
}

/**
 * Runs `riptide start --config <file>` (no `--config` when `configFile` is null) on 127.0.0.1,
 * port 0, and resolves once it listens. `nodeArgs` go to node itself (e.g. `--cpu-prof`); `env` replaces
 * the environment.
 */
export async function spawnServer (configFile: string | null, args: string[] = [], cwd = process.cwd(), nodeArgs: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<ChildServer> {
  const configArgs = configFile === null ? [] : ['--config', configFile]
  const child = spawn(process.execPath, [...nodeArgs, CLI, 'start', ...configArgs, '--host', '127.0.0.1', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd, env })
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)))
  let output = ''
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      // The supervisor's line, once every worker listens (workers log their own lines earlier).
      const match = /ready: .*listening on [^\s:]+:(\d+)/.exec(output)
      if (match === null) return
      child.stdout?.off('data', onData)
      child.stderr?.off('data', onData)
      child.stdout?.resume()
      child.stderr?.resume()
      resolve(Number(match[1]))
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    void exited.then((code) => reject(new Error(`server exited (${code}) before listening:\n${output}`)))
  })
  return { port, process: child, exited, startOutput: output }
}

/** Stops a child server with `signal` and waits for it to exit. */
export async function stopServer (server: ChildServer, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | string> {
  if (server.process.exitCode === null && server.process.signalCode === null) server.process.kill(signal)
  return server.exited
}
