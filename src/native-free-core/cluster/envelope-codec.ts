/**
 * FlatBuffers encoding of the messages that cross between workers
 * (schemas/cluster.fbs): an Envelope of channel, sending worker and one
 * message in the wire protocol's table, with the frames the sender already
 * encoded for clients. One Builder is reused per thread.
 */
import * as flatbuffers from 'flatbuffers'
import { CodecFrame, Envelope } from '../protocol/generated/cluster_generated.js'
import type { Message } from '../protocol/message.js'
import type { EncodedFrames } from '../plugins/cluster-node/cluster-node.js'
import { buildMessage } from '../protocol/wire-message.js'
import { readMessageTable } from '../protocol/wire-reader.js'

/** The sender index the supervisor (main thread) uses. */
export const SUPERVISOR = 0xffff

export interface DecodedEnvelope {
  channel: string
  fromWorker: number
  message: Message
  /** See schemas/cluster.fbs; 0 when not caused by a client frame. */
  receivedAt: number
  /** Frames by codec index, viewing `bytes` (see schemas/cluster.fbs); null when the sender sent none. */
  frames: EncodedFrames | null
  /** The sending host, on envelopes between hosts; null between the workers of one host. */
  fromHost: string | null
}

const builder = new flatbuffers.Builder(1024)

/**
 * Channel and host names as UTF-8, encoded once each: there are a handful of them, and the
 * builder's own string path allocates through TextEncoder on every envelope. Bounded, in case a
 * plugin makes up channel names as it goes.
 */
const names = new Map<string, Uint8Array>()
const NAMES_KEPT = 256
const encoder = new TextEncoder()

function nameBytes (name: string): Uint8Array {
  let bytes = names.get(name)
  if (bytes === undefined) {
    bytes = encoder.encode(name)
    if (names.size < NAMES_KEPT) names.set(name, bytes)
  }
  return bytes
}

/** The binary frames of `frames` as a vector of CodecFrame tables, or 0 when there is none. */
function buildFrames (frames: EncodedFrames | undefined): flatbuffers.Offset {
  if (frames === undefined) return 0
  const tables: flatbuffers.Offset[] = []
  for (let codec = 0; codec < frames.length; codec++) {
    const frame = frames[codec]
    if (frame instanceof Uint8Array) tables.push(CodecFrame.createCodecFrame(builder, codec, builder.createString(frame)))
  }
  return tables.length === 0 ? 0 : Envelope.createFramesVector(builder, tables)
}

export function encodeEnvelope (channel: string, fromWorker: number, message: Message, receivedAt = 0, frames?: EncodedFrames, fromHost?: string): Uint8Array {
  builder.clear()
  // See wire-message.ts: present fields equal to their default must still be written.
  builder.forceDefaults(true)
  const body = buildMessage(builder, message)
  const channelOffset = builder.createString(nameBytes(channel))
  const framesOffset = buildFrames(frames)
  const hostOffset = fromHost === undefined ? 0 : builder.createString(nameBytes(fromHost))
  Envelope.startEnvelope(builder)
  Envelope.addChannel(builder, channelOffset)
  Envelope.addFromWorker(builder, fromWorker)
  Envelope.addMessage(builder, body)
  if (receivedAt !== 0) Envelope.addReceivedAt(builder, receivedAt)
  if (framesOffset !== 0) Envelope.addFrames(builder, framesOffset)
  if (hostOffset !== 0) Envelope.addFromHost(builder, hostOffset)
  builder.finish(Envelope.endEnvelope(builder))
  return builder.asUint8Array()
}

export function decodeEnvelope (bytes: Uint8Array): DecodedEnvelope {
  const envelope = Envelope.getRootAsEnvelope(new flatbuffers.ByteBuffer(bytes))
  const body = envelope.message()
  if (body === null) throw new Error('cluster envelope without a message')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const message = readMessageTable(bytes, view, body.bb_pos, 0, bytes.byteLength)
  return { channel: envelope.channel() ?? '', fromWorker: envelope.fromWorker(), message, receivedAt: envelope.receivedAt(), frames: readFrames(envelope), fromHost: envelope.fromHost() }
}

function readFrames (envelope: Envelope): EncodedFrames | null {
  const count = envelope.framesLength()
  if (count === 0) return null
  const frames: Array<Uint8Array | undefined> = []
  for (let i = 0; i < count; i++) {
    const frame = envelope.frames(i)
    const bytes = frame?.bytesArray()
    if (frame !== null && bytes !== null && bytes !== undefined) frames[frame.codec()] = bytes
  }
  return frames
}
