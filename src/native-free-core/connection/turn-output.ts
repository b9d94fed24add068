/**
 * What this event-loop iteration sends, written once the iteration has run every I/O callback (in
 * an immediate): each socket's queued frames in one write, and each publish to an adapter topic
 * (uWS writes a published frame to every member of the topic in C++). Publishing waits too: inside
 * a uWS message callback, uWS writes a published frame to each member at once, a write(2) per
 * member per message, where publishes handed to it together go out as one write per member.
 *
 * Order. Each socket receives what was sent and published to it in the order the server sent and
 * published it:
 * - publishes wait in one queue, in order, and socket frames in their sockets;
 * - queuing a publish first writes what the sockets queued before it (and the publishes before
 *   those), so the frames waiting at any time were all sent after the publishes waiting, and the
 *   immediate writes the publishes first (uWS hands a socket what was published to it before a
 *   frame sent to it);
 * - a socket joins or leaves a topic only after the publishes waiting are handed to the adapter
 *   (`flushPublishes`), so a membership change applies to what is published after it.
 *
 * Across sockets there is no such order: uWS keeps a published frame in its topic tree until its
 * loop drains the tree (before and after each poll), while a frame sent to a socket is written at
 * once. What must reach one socket only after another socket was handed a publish (a write's
 * acknowledgement, after the update to the record's other subscribers) waits for
 * `afterPublishesWritten`.
 */
import type { TopicHub, TransportTopics } from './transport.js'

/** A socket with frames queued this iteration. */
export interface FlushableSocket {
  flushPending (): void
}

interface Publish {
  hub: TopicHub
  /** Publish from this socket (every member but it), or through the hub when null. */
  from: TransportTopics | null
  topic: string
  frame: Uint8Array | string
  isBinary: boolean
}

let sockets: FlushableSocket[] = []
let publishes: Publish[] = []
let immediate = false
/** Waiting for the publishes handed to the adapter this iteration to be written. */
let awaitingWrite: Array<() => void> = []

function schedule (): void {
  if (immediate) return
  immediate = true
  setImmediate(atEndOfIteration)
}

function atEndOfIteration (): void {
  immediate = false
  flushTurn()
  if (awaitingWrite.length === 0) return
  // uWS drains its topic tree before the next poll (its check handle runs before Node's
  // immediates, so not after this one): by the next iteration's immediates, what was handed to it
  // here is written. What the waits send then (an acknowledgement) leaves in that same iteration:
  // the flush is the immediate after, and the waits' continuations run in between, as microtasks.
  const waiting = awaitingWrite
  awaitingWrite = []
  setImmediate(() => { for (const resolve of waiting) resolve() })
  immediate = true
  setImmediate(atEndOfIteration)
}

/**
 * Resolves once everything published so far has been written to its topics' members: in the next
 * event-loop iteration, whose output it can still join.
 */
export function afterPublishesWritten (): Promise<void> {
  return new Promise((resolve) => {
    awaitingWrite.push(resolve)
    schedule()
  })
}

/** `socket` has queued frames: they go out with this iteration's. */
export function queueSocketFlush (socket: FlushableSocket): void {
  sockets.push(socket)
  schedule()
}

/** Publishes `frame` to `topic` with this iteration's output, after what was sent before it. */
export function queuePublish (hub: TopicHub, from: TransportTopics | null, topic: string, frame: Uint8Array | string, isBinary: boolean): void {
  if (sockets.length > 0) flushTurn()
  publishes.push({ hub, from, topic, frame, isBinary })
  schedule()
}

/** Hands the waiting publishes to their adapters now (before a socket joins or leaves a topic). */
export function flushPublishes (): void {
  if (publishes.length === 0) return
  const waiting = publishes
  publishes = []
  for (const { hub, from, topic, frame, isBinary } of waiting) {
    if (from === null) hub.publish(topic, frame, isBinary)
    else from.publishFromHere(topic, frame, isBinary)
  }
}

/** Writes everything waiting now: the publishes, then every socket's frames. */
export function flushTurn (): void {
  flushPublishes()
  if (sockets.length === 0) return
  const waiting = sockets
  sockets = []
  for (const socket of waiting) socket.flushPending()
}
