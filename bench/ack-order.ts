/**
 * `npm run bench:ack-order`: does a write's acknowledgement reach the writer after the record's
 * update reached its other subscribers? Pairs of @deepstream/client apps in one process each hold
 * a fresh record; one sets it with an acknowledgement, and as the ack arrives the other's copy is
 * checked. Stale copies are counted for deepstream 7.0.2 on uWS and for riptide on 1 and 2 workers
 * (on 2, the kernel spreads the clients, so about half the pairs straddle the workers).
 *
 * A stale copy can also come from the app process itself: once both sockets are readable, its
 * event loop may read the writer's first. This is a measure, not a test; test/workers.test.ts
 * holds the guarantee (a request the reader sends after the ack is answered after the update).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { login, type AppClient } from './lib/app-load.js'
import { startDeepstream, startRiptide, type Target } from './lib/targets.js'

const PAIRS = 8
const ROUNDS = Number(process.env.ACK_ORDER_ROUNDS ?? 50)

async function staleCopies (target: Target): Promise<number> {
  const pairs: Array<[AppClient, AppClient]> = []
  for (let i = 0; i < PAIRS; i++) pairs.push([await login('@deepstream/client', target.port), await login('@deepstream/client', target.port)])
  let stale = 0
  try {
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all(pairs.map(async ([writer, reader], pair) => {
        const name = `ack-order/${pair}/${round}`
        const mine = writer.record.getRecord(name)
        const theirs = reader.record.getRecord(name)
        // Both subscriptions are live once each record has had its read response.
        await Promise.all([mine.whenReady(), theirs.whenReady()])
        await mine.setWithAck({ round })
        if ((theirs.get() as { round?: number }).round !== round) stale++
        mine.discard()
        theirs.discard()
      }))
    }
  } finally {
    for (const [writer, reader] of pairs) {
      writer.close()
      reader.close()
    }
  }
  return stale
}

const servers: Array<[string, (work: string) => Promise<Target>]> = [
  ['deepstream 7.0.2 (uWS)', (work) => startDeepstream(work, 'uws')],
  ['riptide, 1 worker', (work) => startRiptide(work, 1)],
  ['riptide, 2 workers', (work) => startRiptide(work, 2)],
]
console.log(`| server | stale copies as the ack arrived, of ${PAIRS * ROUNDS} |\n| --- | ---: |`)
for (const [label, start] of servers) {
  const work = mkdtempSync(join(tmpdir(), 'ack-order-'))
  const target = await start(work)
  try {
    console.log(`| ${label} | ${await staleCopies(target)} |`)
  } finally {
    await target.stop()
    rmSync(work, { recursive: true, force: true })
  }
}
