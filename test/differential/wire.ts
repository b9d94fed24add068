/**
 * What a differential test observes, through deepstream's own codec (`@deepstream/protobuf`, the
 * one `@deepstream/client` uses) so that neither server's reading of the protocol decides what was
 * sent: a raw WebSocket client that keeps every message it receives, a JIF poster, and the
 * comparison of the two servers' transcripts against the list of known differences.
 */
import WebSocket from 'ws'
import { expect } from 'vitest'
import { DeepstreamClient } from '@deepstream/client'
import { parse } from '@deepstream/protobuf/dist/src/message-parser.js'
import { getMessage } from '@deepstream/protobuf/dist/src/message-builder.js'
import { AUTH_ACTION, CONNECTION_ACTION, TOPIC } from '../../src/native-free-core/protocol/constants.js'
import type { Peer } from './peers.js'
import { KNOWN_DIFFERENCES } from './known-differences.js'

/** Builds messages of one topic: `const rec = messagesOf(TOPIC.RECORD); rec(RECORD_ACTION.READ, { name })`. */
export function messagesOf (topic: number): (action: number, fields?: Record<string, unknown>) => { topic: number, action: number } & Record<string, unknown> {
  return (action, fields = {}) => ({ topic, action, ...fields })
}

/** A message as deepstream's parser returns it: only the fields present on the wire. */
export type WireMessage = Record<string, unknown> & { topic: number, action: number }

const sockets = new Set<WireClient>()

export class WireClient {
  private readonly inbox: WireMessage[] = []
  private wake: (() => void) | null = null
  /** Resolves with the close code once the server or the test has closed the socket. */
  readonly closed: Promise<number>

  private constructor (private readonly ws: WebSocket, private readonly peer: string, private readonly json: boolean) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (json) this.inbox.push(isBinary ? { topic: -1, action: -1, binaryFrame: true } : JSON.parse(data.toString()) as WireMessage)
      else for (const message of parse(data)) this.inbox.push({ ...message } as WireMessage)
      this.wake?.()
    })
    this.closed = new Promise((resolve) => ws.once('close', (code: number) => {
      sockets.delete(this)
      resolve(code)
      this.wake?.()
    }))
    sockets.add(this)
  }

  /** A socket to the binary endpoint (deepstream's protobuf), or with `json` to ws-json's text frames. */
  static async open (peer: Peer, json = false): Promise<WireClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${peer.port}${json ? '/deepstream-json' : '/deepstream'}`)
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    return new WireClient(ws, peer.name, json)
  }

  /** Opens, challenges, sends one login and returns the server's answer to it. */
  static async login (peer: Peer, auth: Record<string, unknown>, json = false): Promise<{ client: WireClient, answer: WireMessage }> {
    const client = await WireClient.open(peer, json)
    client.send({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.CHALLENGE, url: `ws://127.0.0.1:${peer.port}/deepstream` })
    await client.next((m) => m.topic === TOPIC.CONNECTION)
    client.send({ topic: TOPIC.AUTH, action: AUTH_ACTION.REQUEST, data: JSON.stringify(auth) })
    return { client, answer: await client.next((m) => m.topic === TOPIC.AUTH) }
  }

  /** A logged-in client; fails when the login is refused. */
  static async user (peer: Peer, auth: Record<string, unknown>, json = false): Promise<WireClient> {
    const { client, answer } = await WireClient.login(peer, auth, json)
    if (answer.action !== AUTH_ACTION.AUTH_SUCCESSFUL) throw new Error(`login refused: ${JSON.stringify(answer)}`)
    return client
  }

  send (message: Record<string, unknown> & { topic: number, action: number }): void {
    this.ws.send(this.json ? JSON.stringify(message) : getMessage({ ...message }, false))
  }

  /** Sends bytes as they are, for frames no codec would build. */
  sendRaw (frame: Uint8Array): void { this.ws.send(frame) }

  /** Takes the first received message that matches, waiting up to `ms` for it. */
  async next (match: (m: WireMessage) => boolean = () => true, ms = 3000): Promise<WireMessage> {
    const deadline = Date.now() + ms
    for (;;) {
      const index = this.inbox.findIndex(match)
      if (index >= 0) return this.inbox.splice(index, 1)[0]
      if (Date.now() > deadline || this.ws.readyState === WebSocket.CLOSED) {
        throw new Error(`${this.peer}: no matching message within ${ms} ms; received ${JSON.stringify(this.inbox)}`)
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()))
        this.wake = () => { clearTimeout(timer); resolve() }
      })
      this.wake = null
    }
  }

  /**
   * Everything received so far, once the server has answered a PING sent now: what it sent this
   * socket before handling the PING has arrived. The PONG itself is left out.
   */
  async drain (): Promise<WireMessage[]> {
    this.send({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.PING })
    await this.next((m) => m.topic === TOPIC.CONNECTION && m.action === CONNECTION_ACTION.PONG)
    return this.inbox.splice(0)
  }

  close (): void { this.ws.terminate() }
}

const stockClients = new Set<DeepstreamClient>()

/**
 * A stock `@deepstream/client` of `peer`, logged in with `auth` (subscriptions sent at once, no
 * reconnection); its error events go to `errors` as { error, event, topic }. closeWireClients() closes it.
 */
export async function stockClient (peer: Peer, auth: Record<string, unknown>, errors: unknown[] = []): Promise<DeepstreamClient> {
  const client = new DeepstreamClient(`ws://127.0.0.1:${peer.port}/deepstream`, { offlineEnabled: false, maxReconnectAttempts: 0, subscriptionInterval: 0 })
  client.on('error', (error: unknown, event: unknown, topic: unknown) => errors.push({ error: String(error), event, topic }))
  stockClients.add(client)
  await client.login(auth)
  return client
}

/** Closes every wire and stock client still open (after each scenario, and afterEach). */
export function closeWireClients (): void {
  for (const client of sockets) client.close()
  for (const client of stockClients) client.close()
  stockClients.clear()
}

/** POSTs a JIF request and returns status and parsed body (text when it is not JSON). */
export async function postJif (peer: Peer, request: unknown): Promise<{ status: number, body: unknown }> {
  const response = await fetch(`http://127.0.0.1:${peer.port}/api`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request),
  })
  const text = await response.text()
  try {
    return { status: response.status, body: JSON.parse(text) }
  } catch {
    return { status: response.status, body: text }
  }
}

/**
 * Runs a scenario against both servers and compares what each observed. A scenario named in
 * KNOWN_DIFFERENCES must still differ (so the list cannot go stale); any other must match.
 */
export async function differential<T> (name: string, peers: { deepstream: Peer, riptide: Peer }, scenario: (peer: Peer) => Promise<T>): Promise<void> {
  const expected = await scenario(peers.deepstream)
  closeWireClients()
  const actual = await scenario(peers.riptide)
  closeWireClients()
  if (Object.hasOwn(KNOWN_DIFFERENCES, name)) {
    expect(actual, `"${name}" is listed as a known difference but riptide now matches deepstream: remove it from the list and the README`).not.toEqual(expected)
  } else {
    expect(actual, `riptide differs from deepstream 7.0.2 in "${name}"`).toEqual(expected)
  }
}

/** What a promise of the stock client came to: its value, its rejection, or no answer within `ms`. */
export async function outcome (promise: Promise<unknown>, ms = 3000): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined
  const silence = new Promise((resolve) => { timer = setTimeout(() => resolve({ noAnswerWithinMs: ms }), ms) })
  try {
    return await Promise.race([promise.then((value) => ({ resolved: value }), (error: unknown) => ({ rejected: error instanceof Error ? error.message : error })), silence])
  } finally {
    clearTimeout(timer)
  }
}
