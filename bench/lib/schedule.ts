/**
 * Open-loop pacing for fixed-rate load: message i is due at `begin + i / rate` and is sent with
 * that time, however late the server answers, so latency measured from it is corrected for
 * coordinated omission. Checks the schedule every millisecond while `running()` holds.
 */
const now = (): number => performance.timeOrigin + performance.now()
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * How many messages are due `elapsedMs` after the schedule began at `rate` per second: message 0
 * at once, message i once i / rate seconds have passed. (Counting only whole periods passed would
 * send each message a period after its due time, and add that period to every latency measured.)
 */
export function dueCount (elapsedMs: number, rate: number): number {
  return Math.floor((elapsedMs * rate) / 1000) + 1
}

export async function fixedSchedule (rate: number, running: () => boolean, send: (due: number, index: number) => void): Promise<void> {
  const begin = now()
  let sent = 0
  while (running()) {
    const due = dueCount(now() - begin, rate)
    while (sent < due) {
      send(begin + (sent * 1000) / rate, sent)
      sent++
    }
    await sleep(1)
  }
}
