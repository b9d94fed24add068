/**
 * FlatBuffers encoding of the messages that cross between workers
 * (schemas/cluster.fbs): an Envelope of channel, sending worker and one
 * deepstream Message. One Builder is reused per thread.
 */
import * as flatbuffers from 'flatbuffers'
import { Envelope, Message as FbMessage, VersionEntry } from '../protocol/generated/cluster_generated.js'
import type { Message } from '../protocol/message.js'
import type { Topic } from '../protocol/constants.js'

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

function stringOrZero (value: string | undefined): flatbuffers.Offset {
  return value === undefined ? 0 : builder.createString(value)
}

export function encodeEnvelope (channel: string, fromWorker: number, message: Message, receivedAt = 0): Uint8Array {
  builder.clear()
  // Fields are added only when present, and a present value equal to the
  // default (false, 0) must still be written. clear() resets this flag.
  builder.forceDefaults(true)
  // Strings and vectors are built before the table that points at them.
  const name = stringOrZero(message.name)
  const names = message.names === undefined ? 0 : FbMessage.createNamesVector(builder, message.names.map((n) => builder.createString(n)))
  const data = stringOrZero(message.data)
  const correlationId = stringOrZero(message.correlationId)
  const path = stringOrZero(message.path)
  let versions = 0
  if (message.versions !== undefined) {
    const entries = Object.entries(message.versions).map(([key, version]) => {
      const keyOffset = builder.createString(key)
      return VersionEntry.createVersionEntry(builder, keyOffset, version)
    })
    versions = FbMessage.createVersionsVector(builder, entries)
  }
  const subscription = stringOrZero(message.subscription)
  const pattern = stringOrZero(message.pattern)
  const url = stringOrZero(message.url)
  const protocolVersion = stringOrZero(message.protocolVersion)
  const sdkVersion = stringOrZero(message.sdkVersion)
  const sdkType = stringOrZero(message.sdkType)
  const requestorName = stringOrZero(message.requestorName)
  const requestorData = stringOrZero(message.requestorData)

  FbMessage.startMessage(builder)
  FbMessage.addTopic(builder, message.topic)
  FbMessage.addAction(builder, message.action)
  if (message.name !== undefined) FbMessage.addName(builder, name)
  if (message.names !== undefined) FbMessage.addNames(builder, names)
  if (message.data !== undefined) FbMessage.addData(builder, data)
  if (message.correlationId !== undefined) FbMessage.addCorrelationId(builder, correlationId)
  if (message.isAck !== undefined) FbMessage.addIsAck(builder, message.isAck)
  if (message.isError !== undefined) FbMessage.addIsError(builder, message.isError)
  if (message.isWriteAck !== undefined) FbMessage.addIsWriteAck(builder, message.isWriteAck)
  if (message.path !== undefined) FbMessage.addPath(builder, path)
  if (message.version !== undefined) FbMessage.addVersion(builder, message.version)
  if (message.versions !== undefined) FbMessage.addVersions(builder, versions)
  if (message.subscription !== undefined) FbMessage.addSubscription(builder, subscription)
  if (message.pattern !== undefined) FbMessage.addPattern(builder, pattern)
  if (message.originalAction !== undefined) FbMessage.addOriginalAction(builder, message.originalAction)
  if (message.url !== undefined) FbMessage.addUrl(builder, url)
  if (message.protocolVersion !== undefined) FbMessage.addProtocolVersion(builder, protocolVersion)
  if (message.sdkVersion !== undefined) FbMessage.addSdkVersion(builder, sdkVersion)
  if (message.sdkType !== undefined) FbMessage.addSdkType(builder, sdkType)
  if (message.requestorName !== undefined) FbMessage.addRequestorName(builder, requestorName)
  if (message.requestorData !== undefined) FbMessage.addRequestorData(builder, requestorData)
  const body = FbMessage.endMessage(builder)
  const channelOffset = builder.createString(channel)
  Envelope.startEnvelope(builder)
  Envelope.addChannel(builder, channelOffset)
  Envelope.addFromWorker(builder, fromWorker)
  Envelope.addMessage(builder, body)
  if (receivedAt !== 0) Envelope.addReceivedAt(builder, receivedAt)
  builder.finish(Envelope.endEnvelope(builder))
  return builder.asUint8Array()
}

function optional<T> (value: T | null): T | undefined {
  return value === null ? undefined : value
}

export function decodeEnvelope (bytes: Uint8Array): DecodedEnvelope {
  const envelope = Envelope.getRootAsEnvelope(new flatbuffers.ByteBuffer(bytes))
  const body = envelope.message()
  if (body === null) throw new Error('cluster envelope without a message')
  const message: Message = { topic: body.topic() as Topic, action: body.action() }
  const set = <K extends keyof Message>(key: K, value: Message[K] | null): void => {
    if (value !== null && value !== undefined) message[key] = value
  }
  set('name', body.name())
  if (hasVector(body, 'names')) {
    const names: string[] = []
    for (let i = 0; i < body.namesLength(); i++) names.push(body.names(i))
    message.names = names
  }
  set('data', body.data())
  set('correlationId', body.correlationId())
  set('isAck', optional(body.isAck()))
  set('isError', optional(body.isError()))
  set('isWriteAck', optional(body.isWriteAck()))
  set('path', body.path())
  set('version', optional(body.version()))
  if (hasVector(body, 'versions')) {
    const versions: Record<string, number> = {}
    for (let i = 0; i < body.versionsLength(); i++) {
      const entry = body.versions(i)
      if (entry !== null) versions[entry.name() ?? ''] = entry.version()
    }
    message.versions = versions
  }
  set('subscription', body.subscription())
  set('pattern', body.pattern())
  set('originalAction', optional(body.originalAction()))
  set('url', body.url())
  set('protocolVersion', body.protocolVersion())
  set('sdkVersion', body.sdkVersion())
  set('sdkType', body.sdkType())
  set('requestorName', body.requestorName())
  set('requestorData', body.requestorData())
  return { channel: envelope.channel() ?? '', fromWorker: envelope.fromWorker(), message, receivedAt: envelope.receivedAt() }
}

/** Vtable offsets of the vector fields (4 + 2 x field index), to tell an empty vector from an absent one. */
const VECTOR_SLOTS = { names: 10, versions: 26 } as const

function hasVector (body: FbMessage, field: keyof typeof VECTOR_SLOTS): boolean {
  const bb = (body as unknown as { bb: flatbuffers.ByteBuffer, bb_pos: number })
  return bb.bb.__offset(bb.bb_pos, VECTOR_SLOTS[field]) !== 0
}
