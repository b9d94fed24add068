/**
 * When the client frame being handled now reached the server, for the
 * publish-to-delivery histogram. Set by the socket endpoint before it hands
 * a frame to the handlers; read by whatever fans that frame's message out,
 * here or (carried in the cluster envelope) on another worker. Handlers run
 * synchronously per frame, so one slot per thread is enough; 0 outside one.
 */
export const frameClock = { receivedAt: 0 }

/** Milliseconds since the epoch with sub-millisecond precision, comparable between threads. */
export function nowMs (): number {
  return performance.timeOrigin + performance.now()
}
