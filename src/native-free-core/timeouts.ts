/**
 * Many timeouts of few durations (RPC ack and response timeouts, cache and
 * storage deadlines), for less than a Node timer each: timeouts of one
 * duration fall due in the order they were set, so a queue per duration and
 * one timer for its oldest entry serve them all. Setting and clearing are
 * O(1); cleared entries leave the front of their queue at once, so that
 * they die young. A duration may change at run time (the plugin API sets
 * `rpc.ackTimeout`): it simply gets a queue of its own.
 */

/** One pending timeout; pass it to `Timeouts.clear`. */
export interface Timeout {
  readonly at: number
  done: boolean
  readonly expire: () => void
  readonly queue: DurationQueue
}

class DurationQueue {
  readonly entries: Timeout[] = []
  /** Entries before this index are done. */
  next = 0
  timer: NodeJS.Timeout | null = null

  /** Drops done entries from the front; the array is cut when they are most of it. */
  compact (): void {
    const entries = this.entries
    while (this.next < entries.length && entries[this.next].done) this.next++
    if (this.next === entries.length) {
      entries.length = 0
      this.next = 0
    } else if (this.next >= 1024 && this.next * 2 >= entries.length) {
      entries.splice(0, this.next)
      this.next = 0
    }
  }
}

export class Timeouts {
  private readonly queues = new Map<number, DurationQueue>()

  /** Calls `expire` in `ms` unless cleared first. */
  set (ms: number, expire: () => void): Timeout {
    let queue = this.queues.get(ms)
    if (queue === undefined) {
      queue = new DurationQueue()
      this.queues.set(ms, queue)
    }
    const timeout: Timeout = { at: Date.now() + ms, done: false, expire, queue }
    queue.entries.push(timeout)
    if (queue.timer === null) this.arm(queue, ms)
    return timeout
  }

  clear (timeout: Timeout | null): void {
    if (timeout === null || timeout.done) return
    timeout.done = true
    timeout.queue.compact()
  }

  /** Stops every timer; pending timeouts never fire. */
  close (): void {
    for (const queue of this.queues.values()) {
      if (queue.timer !== null) clearTimeout(queue.timer)
      queue.timer = null
      for (const timeout of queue.entries) timeout.done = true
      queue.entries.length = 0
      queue.next = 0
    }
  }

  private arm (queue: DurationQueue, ms: number): void {
    queue.timer = setTimeout(() => this.fire(queue), ms)
    // Whoever waits on a timeout holds the loop open by other means (a socket, a request).
    queue.timer.unref()
  }

  private fire (queue: DurationQueue): void {
    queue.timer = null
    const now = Date.now()
    const due: Timeout[] = []
    const entries = queue.entries
    while (queue.next < entries.length) {
      const timeout = entries[queue.next]
      if (!timeout.done) {
        if (timeout.at > now) break
        timeout.done = true
        due.push(timeout)
      }
      queue.next++
    }
    queue.compact()
    if (queue.next < entries.length) this.arm(queue, Math.max(1, entries[queue.next].at - now))
    for (const timeout of due) timeout.expire()
  }
}
