/**
 * Builds riptide's message model as the FlatBuffers table of
 * schemas/wire.fbs; wire-reader.ts reads it back. The native endpoint's codec
 * and the cluster envelope share both.
 *
 * Presence is kept exactly: a field undefined in the model is absent from
 * the table, and a present field equal to its default (false, 0, '') is
 * written. The builder must therefore have forceDefaults(true) set; it is
 * reset by every clear().
 */
import type * as flatbuffers from 'flatbuffers'
import { DataFormat, Message as FbMessage, VersionEntry } from './generated/wire_generated.js'
import type { Message } from './message.js'

/** ASCII strings are copied byte by byte through here: TextEncoder allocates for every string. */
const ascii = new Uint8Array(1024)
const encoder = new TextEncoder()

/** A string (or bytes) as a length-prefixed byte run: the layout of both `string` and `[ubyte]`. */
function bytesOf (builder: flatbuffers.Builder, value: string | Uint8Array): flatbuffers.Offset {
  if (typeof value !== 'string') return builder.createString(value)
  if (value.length <= ascii.length) {
    let i = 0
    for (; i < value.length; i++) {
      const code = value.charCodeAt(i)
      if (code >= 0x80) break
      ascii[i] = code
    }
    if (i === value.length) return builder.createString(ascii.subarray(0, i))
  }
  return builder.createString(encoder.encode(value))
}

function stringOrZero (builder: flatbuffers.Builder, value: string | undefined): flatbuffers.Offset {
  return value === undefined ? 0 : bytesOf(builder, value)
}

/** Builds `message` as a wire Message table and returns its offset. */
export function buildMessage (builder: flatbuffers.Builder, message: Message): flatbuffers.Offset {
  // Strings and vectors are built before the table that points at them.
  const name = stringOrZero(builder, message.name)
  const names = message.names === undefined ? 0 : FbMessage.createNamesVector(builder, message.names.map((n) => bytesOf(builder, n)))
  const data = message.data === undefined ? 0 : bytesOf(builder, message.data)
  const correlationId = stringOrZero(builder, message.correlationId)
  const path = stringOrZero(builder, message.path)
  let versions = 0
  if (message.versions !== undefined) {
    const entries = Object.entries(message.versions).map(([key, version]) => {
      const keyOffset = bytesOf(builder, key)
      return VersionEntry.createVersionEntry(builder, keyOffset, version)
    })
    versions = FbMessage.createVersionsVector(builder, entries)
  }
  const subscription = stringOrZero(builder, message.subscription)
  const pattern = stringOrZero(builder, message.pattern)
  const url = stringOrZero(builder, message.url)
  const protocolVersion = stringOrZero(builder, message.protocolVersion)
  const sdkVersion = stringOrZero(builder, message.sdkVersion)
  const sdkType = stringOrZero(builder, message.sdkType)
  const requestorName = stringOrZero(builder, message.requestorName)
  const requestorData = stringOrZero(builder, message.requestorData)

  FbMessage.startMessage(builder)
  FbMessage.addTopic(builder, message.topic)
  FbMessage.addAction(builder, message.action)
  if (message.name !== undefined) FbMessage.addName(builder, name)
  if (message.names !== undefined) FbMessage.addNames(builder, names)
  if (message.data !== undefined) {
    FbMessage.addData(builder, data)
    if (typeof message.data !== 'string') FbMessage.addDataFormat(builder, DataFormat.Binary)
  }
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
  return FbMessage.endMessage(builder)
}
