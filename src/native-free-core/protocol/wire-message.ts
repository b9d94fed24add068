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

/**
 * Builds `message` as a wire Message table and returns its offset.
 *
 * It walks the properties the message has (`for...in`) instead of asking for each of the 22 fields:
 * messages reach here in many shapes (every decoder and handler builds its own), and a property
 * read at one site across that many shapes misses V8's inline caches, which for absent properties
 * costs a runtime call each. Reading every field cost 6 µs per envelope over 200 shapes, 1.7 over three.
 */
export function buildMessage (builder: flatbuffers.Builder, message: Message): flatbuffers.Offset {
  // Strings and vectors are built before the table that points at them.
  let topic = 0
  let action = 0
  let name = 0
  let names = 0
  let data = 0
  let binary = false
  let correlationId = 0
  let path = 0
  let versions = 0
  let subscription = 0
  let pattern = 0
  let url = 0
  let protocolVersion = 0
  let sdkVersion = 0
  let sdkType = 0
  let requestorName = 0
  let requestorData = 0
  let isAck: boolean | undefined
  let isError: boolean | undefined
  let isWriteAck: boolean | undefined
  let version: number | undefined
  let originalAction: number | undefined
  const fields = message as unknown as Record<string, unknown>
  for (const key in fields) {
    const value = fields[key]
    if (value === undefined) continue
    switch (key) {
      case 'topic': topic = value as number; break
      case 'action': action = value as number; break
      case 'name': name = bytesOf(builder, value as string); break
      case 'names': names = FbMessage.createNamesVector(builder, (value as string[]).map((n) => bytesOf(builder, n))); break
      case 'data':
        data = bytesOf(builder, value as string | Uint8Array)
        binary = typeof value !== 'string'
        break
      case 'correlationId': correlationId = bytesOf(builder, value as string); break
      case 'path': path = bytesOf(builder, value as string); break
      case 'versions': versions = versionsVector(builder, value as Record<string, number>); break
      case 'subscription': subscription = bytesOf(builder, value as string); break
      case 'pattern': pattern = bytesOf(builder, value as string); break
      case 'url': url = bytesOf(builder, value as string); break
      case 'protocolVersion': protocolVersion = bytesOf(builder, value as string); break
      case 'sdkVersion': sdkVersion = bytesOf(builder, value as string); break
      case 'sdkType': sdkType = bytesOf(builder, value as string); break
      case 'requestorName': requestorName = bytesOf(builder, value as string); break
      case 'requestorData': requestorData = bytesOf(builder, value as string); break
      case 'isAck': isAck = value as boolean; break
      case 'isError': isError = value as boolean; break
      case 'isWriteAck': isWriteAck = value as boolean; break
      case 'version': version = value as number; break
      case 'originalAction': originalAction = value as number; break
    }
  }

  FbMessage.startMessage(builder)
  FbMessage.addTopic(builder, topic)
  FbMessage.addAction(builder, action)
  if (name !== 0) FbMessage.addName(builder, name)
  if (names !== 0) FbMessage.addNames(builder, names)
  if (data !== 0) {
    FbMessage.addData(builder, data)
    if (binary) FbMessage.addDataFormat(builder, DataFormat.Binary)
  }
  if (correlationId !== 0) FbMessage.addCorrelationId(builder, correlationId)
  if (isAck !== undefined) FbMessage.addIsAck(builder, isAck)
  if (isError !== undefined) FbMessage.addIsError(builder, isError)
  if (isWriteAck !== undefined) FbMessage.addIsWriteAck(builder, isWriteAck)
  if (path !== 0) FbMessage.addPath(builder, path)
  if (version !== undefined) FbMessage.addVersion(builder, version)
  if (versions !== 0) FbMessage.addVersions(builder, versions)
  if (subscription !== 0) FbMessage.addSubscription(builder, subscription)
  if (pattern !== 0) FbMessage.addPattern(builder, pattern)
  if (originalAction !== undefined) FbMessage.addOriginalAction(builder, originalAction)
  if (url !== 0) FbMessage.addUrl(builder, url)
  if (protocolVersion !== 0) FbMessage.addProtocolVersion(builder, protocolVersion)
  if (sdkVersion !== 0) FbMessage.addSdkVersion(builder, sdkVersion)
  if (sdkType !== 0) FbMessage.addSdkType(builder, sdkType)
  if (requestorName !== 0) FbMessage.addRequestorName(builder, requestorName)
  if (requestorData !== 0) FbMessage.addRequestorData(builder, requestorData)
  return FbMessage.endMessage(builder)
}

function versionsVector (builder: flatbuffers.Builder, versions: Record<string, number>): flatbuffers.Offset {
  const entries = Object.entries(versions).map(([key, version]) => VersionEntry.createVersionEntry(builder, bytesOf(builder, key), version))
  return FbMessage.createVersionsVector(builder, entries)
}
