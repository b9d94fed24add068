/**
 * FlatBuffers encoding of the messages that cross between workers
 * (schemas/cluster.fbs): an Envelope of channel, sending worker and one
 * message in the wire protocol's table. One Builder is reused per thread.
 */
import * as flatbuffers from 'flatbuffers'
import { Envelope } from '../protocol/generated/cluster_generated.js'
import type { Message } from '../protocol/message.js'
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
}

const builder = new flatbuffers.Builder(1024)

export function encodeEnvelope (channel: string, fromWorker: number, message: Message, receivedAt = 0): Uint8Array {
  builder.clear()
  // See wire-message.ts: present fields equal to their default must still be written.
  builder.forceDefaults(true)
  const body = buildMessage(builder, message)
  const channelOffset = builder.createString(channel)
  Envelope.startEnvelope(builder)
  Envelope.addChannel(builder, channelOffset)
  Envelope.addFromWorker(builder, fromWorker)
  Envelope.addMessage(builder, body)
  if (receivedAt !== 0) Envelope.addReceivedAt(builder, receivedAt)
  builder.finish(Envelope.endEnvelope(builder))
  return builder.asUint8Array()
}

export function decodeEnvelope (bytes: Uint8Array): DecodedEnvelope {
  const envelope = Envelope.getRootAsEnvelope(new flatbuffers.ByteBuffer(bytes))
  const body = envelope.message()
  if (body === null) throw new Error('cluster envelope without a message')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const message = readMessageTable(bytes, view, body.bb_pos, 0, bytes.byteLength)
  return { channel: envelope.channel() ?? '', fromWorker: envelope.fromWorker(), message, receivedAt: envelope.receivedAt() }
}
