/**
 * Differential: logins against deepstream 7.0.2 and riptide, on the wire and through the stock
 * client (successes, failures, attempt limits, malformed auth data, messages out of turn).
 */
import { describe, expect, it } from 'vitest'
import { DeepstreamClient } from '@deepstream/client'
import { AUTH_ACTION, CONNECTION_ACTION, TOPIC } from '../../src/native-free-core/protocol/constants.js'
import { eventually } from '../helpers.js'
import { usePeers } from './peers.js'
import { differential, outcome, WireClient, type WireMessage } from './wire.js'

describe('differential: authentication', () => {
  const peers = usePeers()

  it('answers a good login with AUTH_SUCCESSFUL and the user\'s clientData', () => differential('login succeeds', peers, async (peer) => {
    const answers = []
    for (const auth of [{ username: 'ada', password: 'ada-pw' }, { username: 'cat', password: 'cat-pw' }]) {
      answers.push((await WireClient.login(peer, auth)).answer)
    }
    return answers
  }))

  it('answers every failed attempt, then TOO_MANY_AUTH_ATTEMPTS and a close after the third', () => differential('failed logins up to the limit', peers, async (peer) => {
    const { client, answer } = await WireClient.login(peer, { username: 'ada', password: 'wrong' })
    const seen: WireMessage[] = [answer]
    for (const auth of [{ username: 'nobody', password: 'x' }, { username: 'ada' }]) {
      client.send({ topic: TOPIC.AUTH, action: AUTH_ACTION.REQUEST, data: JSON.stringify(auth) })
      seen.push(await client.next())
    }
    seen.push(await client.next())
    await client.closed
    return seen
  }))

  it('says which parameter is missing, in deepstream\'s words', () => differential('login without a password', peers, async (peer) => {
    return [(await WireClient.login(peer, { username: 'ada' })).answer, (await WireClient.login(peer, { password: 'x' })).answer]
  }))

  it('refuses auth data that is not a JSON object and closes', () => differential('auth data not an object', peers, async (peer) => {
    const client = await WireClient.open(peer)
    client.send({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.CHALLENGE, url: `ws://127.0.0.1:${peer.port}/deepstream` })
    const accept = await client.next()
    client.send({ topic: TOPIC.AUTH, action: AUTH_ACTION.REQUEST, data: '"just a string"' })
    const refusal = await client.next()
    await client.closed
    return [accept, refusal]
  }))

  it('answers a message sent before the challenge, and one sent before login', () => differential('messages out of turn', peers, async (peer) => {
    const early = await WireClient.open(peer)
    early.send({ topic: TOPIC.EVENT, action: 2, name: 'x' })
    const beforeChallenge = await early.next()
    const client = await WireClient.open(peer)
    client.send({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.CHALLENGE, url: `ws://127.0.0.1:${peer.port}/deepstream` })
    await client.next()
    client.send({ topic: TOPIC.EVENT, action: 2, name: 'x' })
    return [beforeChallenge, await client.next()]
  }))

  it('settles each login() of the stock client, and reports the attempts as deepstream does', () => differential('stock client failed logins', peers, async (peer) => {
    const client = new DeepstreamClient(`ws://127.0.0.1:${peer.port}/deepstream`, { offlineEnabled: false, maxReconnectAttempts: 0, subscriptionInterval: 0 })
    const errors: unknown[] = []
    client.on('error', (error: unknown, event: unknown, topic: unknown) => errors.push({ error: String(error), event, topic }))
    const results: unknown[] = []
    try {
      for (const password of ['a', 'b', 'c']) {
        results.push(await outcome(client.login({ username: 'bob', password })))
      }
      await eventually(() => expect(client.getConnectionState()).toBe('TOO_MANY_AUTH_ATTEMPTS'))
      results.push(client.getConnectionState())
    } finally {
      client.close()
    }
    return { results, errors }
  }))

  it('logs the stock client in with clientData', () => differential('stock client login', peers, async (peer) => {
    const client = new DeepstreamClient(`ws://127.0.0.1:${peer.port}/deepstream`, { offlineEnabled: false, maxReconnectAttempts: 0, subscriptionInterval: 0 })
    try {
      return await client.login({ username: 'ada', password: 'ada-pw' })
    } finally {
      client.close()
    }
  }))
})

describe('differential: authentication timeout', () => {
  const peers = usePeers({ unauthenticatedClientTimeout: 300 })

  it('tells a client that does not log in in time, and closes it', () => differential('authentication timeout', peers, async (peer) => {
    const client = await WireClient.open(peer)
    client.send({ topic: TOPIC.CONNECTION, action: CONNECTION_ACTION.CHALLENGE, url: `ws://127.0.0.1:${peer.port}/deepstream` })
    const accept = await client.next()
    const timedOut = await client.next()
    await client.closed
    return [accept, timedOut]
  }))
})
