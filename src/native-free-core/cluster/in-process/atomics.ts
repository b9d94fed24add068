/**
 * The few Atomics operations the shared structures use. No other module
 * calls Atomics on their arrays. Every blocking wait here is bounded; an async
 * wait may be unbounded when its caller bounds it otherwise (the cluster
 * node's receive loop has a backstop timer).
 */
import { RiptideError } from '../../errors.js'


/** Thrown when a shared lock cannot be taken in time: its holder is stuck or dead. */
export class SharedLockTimeout extends RiptideError {
  override name = 'SharedLockTimeout'
  constructor (message: string) { super('RT_SHARED_LOCK_TIMEOUT', message) }
}

/**
 * Takes the spin lock at `index` for `owner` (a non-zero id). Spins briefly,
 * then sleeps in 1 ms waits; gives up after `timeoutMs`. Atomics.wait is
 * allowed here because every caller is a worker thread or the supervisor,
 * and a lock is only ever held for a few microseconds of straight-line code.
 */
export function acquire (view: Int32Array, index: number, owner: number, timeoutMs = 2000): void {
  for (let spin = 0; spin < 64; spin++) {
    if (Atomics.compareExchange(view, index, 0, owner) === 0) return
  }
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const holder = Atomics.compareExchange(view, index, 0, owner)
    if (holder === 0) return
    if (Date.now() > deadline) throw new SharedLockTimeout(`shared lock held by ${holder} for over ${timeoutMs} ms`)
    Atomics.wait(view, index, holder, 1)
  }
}

/** Releases a lock taken by `acquire` and wakes one waiter. */
export function release (view: Int32Array, index: number): void {
  Atomics.store(view, index, 0)
  Atomics.notify(view, index, 1)
}

/** Frees a lock whose holder died (the supervisor's clean-up); true if `owner` held it. */
export function releaseIfHeldBy (view: Int32Array, index: number, owner: number): boolean {
  if (Atomics.compareExchange(view, index, owner, 0) !== owner) return false
  Atomics.notify(view, index, 1)
  return true
}

/** Starts a seqlock write: the counter turns odd, readers retry until it is even again. */
export function beginWrite (view: Int32Array, index: number): void {
  Atomics.add(view, index, 1)
}

export function endWrite (view: Int32Array, index: number): void {
  Atomics.add(view, index, 1)
}

/**
 * Reads consistently under a seqlock: runs `read` until no write overlapped
 * it. `read` must be safe on torn data (bounds-checked) and free of effects.
 */
export function readConsistent<T> (view: Int32Array, index: number, read: () => T, timeoutMs = 2000): T {
  const deadline = Date.now() + timeoutMs
  for (let attempt = 0; ; attempt++) {
    const before = Atomics.load(view, index)
    if ((before & 1) === 0) {
      const result = read()
      if (Atomics.load(view, index) === before) return result
    }
    if (attempt > 64) {
      if (Date.now() > deadline) throw new SharedLockTimeout(`shared table stayed busy for over ${timeoutMs} ms`)
      Atomics.wait(view, index, Atomics.load(view, index), 1)
    }
  }
}

/** Bumps a futex word and wakes every waiter on it. */
export function signal (view: Int32Array, index: number): void {
  Atomics.add(view, index, 1)
  Atomics.notify(view, index)
}

/**
 * Bumps a futex word, and wakes its waiters only if the word at `waitingIndex` says someone waits
 * (a wake is a futex call; a waiter sets that word before its last look, see Ring.waitForData).
 */
export function signalIfWaiting (view: Int32Array, index: number, waitingIndex: number): void {
  Atomics.add(view, index, 1)
  if (Atomics.load(view, waitingIndex) !== 0) Atomics.notify(view, index)
}

/** Resolves when the futex word changes from `seen`, or after `timeoutMs` (never blocks the event loop; Infinity: no timer). */
export async function waitForSignal (view: Int32Array, index: number, seen: number, timeoutMs: number): Promise<void> {
  const result = Atomics.waitAsync(view, index, seen, timeoutMs)
  if (result.async) await result.value
}

export function load (view: Int32Array, index: number): number {
  return Atomics.load(view, index)
}

export function store (view: Int32Array, index: number, value: number): void {
  Atomics.store(view, index, value)
}
