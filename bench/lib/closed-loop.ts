/** The closed-loop load both record benches use: a fixed number of requests in flight per socket. */
import type { ProtocolClient } from './protocol-client.js'
import type { Message } from '../../src/native-free-core/protocol/message.js'

export interface Rate { perSecond: number, total: number, errors: number }

/**
 * Keeps `depth` requests in flight on every socket: each reply that `isReply`
 * accepts (or an error) lets the next request go. Replies are counted for
 * `seconds` after `warmupMs` of warm-up; then the loop drains and resolves.
 */
export async function closedLoop (clients: ProtocolClient[], options: { depth: number, warmupMs: number, seconds: number }, request: (socket: number, sequence: number) => Message, isReply: (message: Message) => boolean): Promise<Rate> {
  let counting = false
  let running = true
  let total = 0
  let errors = 0
  const warmup = setTimeout(() => { counting = true }, options.warmupMs)
  const end = setTimeout(() => { counting = false; running = false }, options.warmupMs + options.seconds * 1000)
  await Promise.all(clients.map((client, socket) => new Promise<void>((resolve) => {
    let sequence = 0
    let inFlight = 0
    const next = (): void => {
      if (!running) {
        if (inFlight === 0) resolve()
        return
      }
      inFlight++
      client.send(request(socket, sequence++))
    }
    client.onMessage = (message) => {
      if (isReply(message)) {
        if (counting) total++
      } else if (message.isError === true) {
        errors++
      } else {
        return
      }
      inFlight--
      next()
    }
    for (let i = 0; i < options.depth; i++) next()
  })))
  clearTimeout(warmup)
  clearTimeout(end)
  return { perSecond: total / options.seconds, total, errors }
}
