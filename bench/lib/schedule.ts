/**
 * Open-loop pacing for fixed-rate load: message i is due at `begin + i / rate` and is sent with
 * that time, however late the server answers, so latency measured from it is corrected for
 * coordinated omission. Checks the schedule every millisecond while `running()` holds.
 */
const now = (): number => performance.timeOrigin + performance.now()
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export async function fixedSchedule (rate: number, running: () => boolean, send: (due: number, index: number) => void): Promise<void> {
  const begin = now()
  let sent = 0
  while (running()) {
    const due = Math.floor(((now() - begin) * rate) / 1000)
    while (sent < due) {
      send(begin + (sent * 1000) / rate, sent)
      sent++
    }
    await sleep(1)
  }
}
