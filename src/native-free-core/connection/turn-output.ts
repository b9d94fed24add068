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

function schedule (): void {
  if (immediate) return
  immediate = true
  setImmediate(atEndOfIteration)
}

function atEndOfIteration (): void {
  immediate = false
  flushTurn()
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
