/**
 * Differential: presence on the wire: per-user and all-user subscriptions, joins and leaves,
 * queries of everyone and of named users, a user on two connections, unsubscribes.
 */
import { describe, it } from 'vitest'
import { PRESENCE_ACTION as U, TOPIC } from '../../src/native-free-core/protocol/constants.js'
import { ADA, BOB, CAT, usePeers } from './peers.js'
import { differential, messagesOf, WireClient } from './wire.js'

const presence = messagesOf(TOPIC.PRESENCE)

describe('differential: presence', () => {
  const peers = usePeers()

  it('announces joins and leaves to per-user and all-user subscribers, once per user', () => differential('presence flow', peers, async (peer) => {
    const watcher = await WireClient.user(peer, ADA)
    watcher.send(presence(U.SUBSCRIBE, { names: ['bob'], correlationId: '0' }))
    const subscribed = await watcher.next()
    watcher.send(presence(U.SUBSCRIBE_ALL)) // as the stock client sends it
    const subscribedAll = await watcher.next()
    const bob = await WireClient.user(peer, BOB)
    const joined = [await watcher.next(), await watcher.next()]
    const bobAgain = await WireClient.user(peer, BOB)
    const cat = await WireClient.user(peer, CAT)
    const catJoined = await watcher.next()
    bob.close()
    await bob.closed
    cat.close()
    const catLeft = await watcher.next()
    bobAgain.close()
    const left = [await watcher.next(), await watcher.next()]
    joined.sort((x, y) => x.action - y.action)
    left.sort((x, y) => x.action - y.action)
    return { subscribed, subscribedAll, joined, catJoined, catLeft, left, rest: await watcher.drain() }
  }))

  it('acks SUBSCRIBE_ALL and UNSUBSCRIBE_ALL that carry a correlation id', () => differential('presence all-user acks echo the correlation id', peers, async (peer) => {
    const watcher = await WireClient.user(peer, ADA)
    watcher.send(presence(U.SUBSCRIBE_ALL, { correlationId: '1' }))
    const subscribed = await watcher.next()
    watcher.send(presence(U.UNSUBSCRIBE_ALL, { correlationId: '2' }))
    return [subscribed, await watcher.next()]
  }))

  it('denies presence to a user the rules leave out', () => differential('presence denials', peers, async (peer) => {
    const cat = await WireClient.user(peer, CAT)
    const answers = []
    for (const message of [
      presence(U.SUBSCRIBE, { names: ['ada'], correlationId: '0' }),
      presence(U.SUBSCRIBE_ALL),
      presence(U.QUERY_ALL),
      presence(U.QUERY, { names: ['ada'], correlationId: 'q' }),
    ]) {
      cat.send(message)
      answers.push(await cat.drain())
    }
    return answers
  }))

  it('answers queries of everyone and of named users, without the asker', () => differential('presence queries', peers, async (peer) => {
    const asker = await WireClient.user(peer, ADA)
    await WireClient.user(peer, BOB)
    await WireClient.user(peer, CAT)
    asker.send(presence(U.QUERY_ALL))
    const all = await asker.next()
    ;(all.names as string[]).sort()
    asker.send(presence(U.QUERY, { names: ['bob', 'ada', 'nobody'], correlationId: 'q1' }))
    const some = await asker.next()
    asker.send(presence(U.UNSUBSCRIBE, { names: ['bob'], correlationId: '2' }))
    return { all, some, unsubscribed: await asker.next(), rest: await asker.drain() }
  }))
})
