/**
 * Soak of the connection workers' runner (docs/workers.md): the server in a child process through
 * the CLI, on a Piscina pool or on plain worker threads (`workerRunner` in the config), under connection
 * churn: rounds of 3 clients that log in, subscribe (waiting for the ack), publish, and close.
 * With `--gc-ms N` the server runs with `--expose-gc` and every worker forces a full collection
 * every N ms (`RIPTIDE_FORCE_GC_MS`), so that a native object reachable only from a collected
 * closure would be freed while uWS still uses it. Counts crashes (the process dying), hangs (a
 * round unfinished after 10 s) and unclean stops (SIGTERM not ending the process with 0 in 20 s).
 *
 *   npm run bench:soak [-- --runner both --runs 3 --rounds 1000 --gc-ms 5 --workers 2]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { spawnServer, stopServer, type ChildServer } from './lib/child-server.js'
import { ProtocolClient } from './lib/protocol-client.js'
import { EVENT_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'
import { saveResults } from './lib/report.js'

const { values: args } = parseArgs({
  options: {
    runner: { type: 'string', default: 'both' },
    runs: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '1000' },
    'gc-ms': { type: 'string', default: '0' },
    workers: { type: 'string', default: '2' },
  },
})
const RUNS = Number(args.runs)
const ROUNDS = Number(args.rounds)
const GC_MS = Number(args['gc-ms'])
const RUNNERS = args.runner === 'both' ? ['threads', 'piscina'] : [args.runner as string]
const ROUND_DEADLINE_MS = 10_000

type Outcome = 'clean' | 'crashed' | 'hung' | 'unclean stop'

/** One round: 3 clients log in, subscribe, one of them emits, all close. */
async function round (port: number, index: number): Promise<void> {
  const clients = await Promise.all([0, 1, 2].map(() => ProtocolClient.login(port)))
  const name = `churn/${index % 10}`
  await Promise.all(clients.map((client, i) => new Promise<void>((resolve) => {
    client.onMessage = (message) => { if (message.correlationId === `s${i}` && message.isAck === true) resolve() }
    client.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: [name], correlationId: `s${i}` })
  })))
  clients[0].send({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name, data: '1' })
  await Promise.all(clients.map((client) => client.close()))
}

function withDeadline<T> (promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), ms) })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

async function soakOnce (runner: string, work: string): Promise<{ outcome: Outcome, rounds: number, detail: string }> {
  const config = join(work, 'config.yml')
  writeFileSync(config, `logLevel: WARN\nworkerRunner: ${runner}\ncache: { type: lmdb, options: { path: ${JSON.stringify(join(work, 'data'))} } }\nstorage: { type: none }\n`)
  const env = { ...process.env, RIPTIDE_FORCE_GC_MS: String(GC_MS) }
  const server: ChildServer = await spawnServer(config, ['--workers', String(args.workers), '--log-level', 'info'], work, GC_MS > 0 ? ['--expose-gc'] : [], env)
  let output = ''
  server.process.stderr?.on('data', (chunk: Buffer) => { output = (output + chunk.toString()).slice(-2000) })
  let exit: number | string | null = null
  void server.exited.then((code) => { exit = code })
  let done = 0
  for (; done < ROUNDS; done++) {
    const result = await withDeadline(round(server.port, done).then(() => 'ok' as const, (error: unknown) => String(error)), ROUND_DEADLINE_MS)
    if (exit !== null) return { outcome: 'crashed', rounds: done, detail: `exit ${String(exit)}: ${output.split('\n').slice(-4).join(' | ')}` }
    if (result === 'timeout') {
      await stopServer(server, 'SIGKILL')
      return { outcome: 'hung', rounds: done, detail: `round ${done} unfinished after ${ROUND_DEADLINE_MS} ms` }
    }
    if (result !== 'ok') {
      // A refused connection or a reset: the process may be on its way down; look again shortly.
      await new Promise((resolve) => setTimeout(resolve, 200))
      if (exit !== null) return { outcome: 'crashed', rounds: done, detail: `exit ${String(exit)}: ${output.split('\n').slice(-4).join(' | ')}` }
      await stopServer(server, 'SIGKILL')
      return { outcome: 'hung', rounds: done, detail: result }
    }
  }
  const stopped = await withDeadline(stopServer(server, 'SIGTERM'), 20_000)
  if (stopped !== 0) {
    if (stopped === 'timeout') await stopServer(server, 'SIGKILL')
    return { outcome: 'unclean stop', rounds: done, detail: `stop: ${String(stopped)}` }
  }
  return { outcome: 'clean', rounds: done, detail: '' }
}

async function main (): Promise<void> {
  const results: Record<string, Array<{ outcome: Outcome, rounds: number, detail: string, seconds: number }>> = {}
  for (const runner of RUNNERS) {
    results[runner] = []
    for (let run = 0; run < RUNS; run++) {
      const work = mkdtempSync(join(tmpdir(), 'riptide-bench-soak-'))
      const started = Date.now()
      try {
        const result = await soakOnce(runner, work)
        const seconds = (Date.now() - started) / 1000
        results[runner].push({ ...result, seconds })
        console.log(`${runner} run ${run + 1}: ${result.outcome} after ${result.rounds} rounds, ${seconds.toFixed(1)} s ${result.detail}`)
      } finally {
        rmSync(work, { recursive: true, force: true })
      }
    }
  }
  console.log(`\n| runner (${args.workers} workers, ${ROUNDS} rounds of 3 clients, forced GC ${GC_MS > 0 ? `every ${GC_MS} ms` : 'off'}) | runs | crashed | hung | unclean stop |`)
  console.log('| --- | ---: | ---: | ---: | ---: |')
  for (const [runner, runs] of Object.entries(results)) {
    const count = (outcome: Outcome): number => runs.filter((run) => run.outcome === outcome).length
    console.log(`| ${runner} | ${runs.length} | ${count('crashed')} | ${count('hung')} | ${count('unclean stop')} |`)
  }
  saveResults('soak', { rounds: ROUNDS, gcMs: GC_MS, workers: Number(args.workers), results })
  if (Object.values(results).some((runs) => runs.some((run) => run.outcome !== 'clean'))) process.exitCode = 1
}

await main()
