/**
 * Differential: records and lists on the wire and through the stock client: subscribe and read,
 * updates, patches, erases, write acknowledgements, version conflicts, setData, head, bulk head,
 * read of a missing record, delete, unsubscribe, notify, and a permission denial of every action.
 */
import { describe, it } from 'vitest'
import { RECORD_ACTION as R, TOPIC } from '../../src/native-free-core/protocol/constants.js'
import { ADA, BOB, usePeers, type Peer } from './peers.js'
import { differential, messagesOf, outcome, stockClient, WireClient } from './wire.js'

const rec = messagesOf(TOPIC.RECORD)

/** Two logged-in wire clients, both subscribed to `name` (created if new); the subscription answers are returned. */
async function twoSubscribers (peer: Peer, name: string): Promise<{ a: WireClient, b: WireClient, opened: unknown[] }> {
  const a = await WireClient.user(peer, ADA)
  const b = await WireClient.user(peer, BOB)
  a.send(rec(R.SUBSCRIBECREATEANDREAD, { names: [name], correlationId: '0' }))
  const opened: unknown[] = [await a.next(), await a.next()]
  b.send(rec(R.SUBSCRIBECREATEANDREAD, { names: [name], correlationId: '0' }))
  opened.push(await b.next(), await b.next())
  return { a, b, opened }
}

describe('differential: records', () => {
  const peers = usePeers()

  it('creates on subscribe, and sends updates, patches and erases to the other subscriber only', () => differential('record update flow', peers, async (peer) => {
    const { a, b, opened } = await twoSubscribers(peer, 'flow/1')
    a.send(rec(R.UPDATE, { name: 'flow/1', version: 1, data: JSON.stringify({ x: 1, y: { z: 2 } }) }))
    const update = await b.next()
    a.send(rec(R.PATCH, { name: 'flow/1', version: 2, path: 'y.z', data: '5' }))
    const patch = await b.next()
    a.send(rec(R.ERASE, { name: 'flow/1', version: 3, path: 'y.z' }))
    const erase = await b.next()
    return { opened, toB: [update, patch, erase, ...await b.drain()], toA: await a.drain() }
  }))

  it('acknowledges writes that ask for it, and answers a stale version with VERSION_EXISTS', () => differential('record write acks and conflicts', peers, async (peer) => {
    const { a, b } = await twoSubscribers(peer, 'acks/1')
    a.send(rec(R.UPDATE, { name: 'acks/1', version: 1, data: '{"n":1}', isWriteAck: true, correlationId: '1' }))
    const ack = await a.next()
    a.send(rec(R.PATCH, { name: 'acks/1', version: 2, path: 'n', data: '2', isWriteAck: true, correlationId: '2' }))
    const patchAck = await a.next()
    b.send(rec(R.UPDATE, { name: 'acks/1', version: 2, data: '{"n":"stale"}' }))
    const conflict = await b.next((m) => m.action === R.VERSION_EXISTS)
    b.send(rec(R.UPDATE, { name: 'acks/1', version: 1, data: '{"n":"older"}', isWriteAck: true, correlationId: '7' }))
    const ackedConflict = await b.next((m) => m.action === R.VERSION_EXISTS)
    a.send(rec(R.UPDATE, { name: 'acks/1', version: 9, data: '{"n":"future"}', isWriteAck: true, correlationId: '8' }))
    const future = await a.next((m) => m.action === R.INVALID_VERSION)
    return { ack, patchAck, conflict, ackedConflict, future, toA: await a.drain(), toB: await b.drain() }
  }))

  it('serves setData, head, read and bulk head for records with and without a subscription', () => differential('record one-shot actions', peers, async (peer) => {
    const a = await WireClient.user(peer, ADA)
    a.send(rec(R.CREATEANDUPDATE, { name: 'shot/1', version: -1, data: '{"v":1}', isWriteAck: true, correlationId: '1' }))
    const set = await a.next()
    a.send(rec(R.CREATEANDPATCH, { name: 'shot/1', version: -1, path: 'w', data: '2', isWriteAck: true, correlationId: '2' }))
    const patched = await a.next()
    const answers = []
    for (const name of ['shot/1', 'shot/missing']) {
      a.send(rec(R.HEAD, { name }))
      answers.push(await a.next())
      a.send(rec(R.READ, { name }))
      answers.push(await a.next())
    }
    a.send(rec(R.SUBSCRIBEANDHEAD, { names: ['shot/1', 'shot/missing'], correlationId: '3' }))
    // The bulk answer's parts, each waited for (deepstream sends them after looking the records up).
    answers.push(await a.next((m) => m.action === R.HEAD_RESPONSE_BULK))
    answers.push(await a.next((m) => m.action === R.SUBSCRIBEANDHEAD && m.isAck === true))
    answers.push(await a.next((m) => m.action === R.HEAD_RESPONSE))
    answers.push(...await a.drain())
    return { set, patched, answers }
  }))

  it('deletes, tells the other subscriber, and acknowledges unsubscribes', () => differential('record delete and unsubscribe', peers, async (peer) => {
    const { a, b } = await twoSubscribers(peer, 'gone/1')
    a.send(rec(R.UPDATE, { name: 'gone/1', version: 1, data: '{"a":1}', isWriteAck: true, correlationId: '1' }))
    await a.next()
    const updated = await b.next((m) => m.action === R.UPDATE)
    a.send(rec(R.DELETE, { name: 'gone/1' }))
    const deleted = await a.next()
    const told = await b.next((m) => m.action === R.DELETED)
    b.send(rec(R.UNSUBSCRIBE, { names: ['gone/1'], correlationId: '4' }))
    return { updated, deleted, told, unsubscribed: await b.next(), toA: await a.drain(), toB: await b.drain() }
  }))

  it('notifies subscribers of a record changed behind the server\'s back', () => differential('record notify', peers, async (peer) => {
    const { a, b } = await twoSubscribers(peer, 'note/1')
    a.send(rec(R.UPDATE, { name: 'note/1', version: 1, data: '{"a":1}', isWriteAck: true, correlationId: '1' }))
    await a.next()
    await b.next()
    a.send(rec(R.NOTIFY, { names: ['note/1'], correlationId: 'n1' }))
    return { toA: [await a.next(), ...await a.drain()], toB: await b.drain() }
  }))

  it('asks an upsert for create permission only when the record is missing', () => differential('upsert create permission', peers, async (peer) => {
    const ada = await WireClient.user(peer, ADA)
    const bob = await WireClient.user(peer, BOB)
    ada.send(rec(R.CREATEANDUPDATE, { name: 'adamade/1', version: -1, data: '{"by":"ada"}', isWriteAck: true, correlationId: '1' }))
    const made = await ada.next()
    bob.send(rec(R.CREATEANDUPDATE, { name: 'adamade/1', version: -1, data: '{"by":"bob"}', isWriteAck: true, correlationId: '2' }))
    const updated = await bob.next()
    bob.send(rec(R.CREATEANDUPDATE, { name: 'adamade/2', version: -1, data: '{"by":"bob"}', isWriteAck: true, correlationId: '3' }))
    const refused = await bob.next()
    bob.send(rec(R.READ, { name: 'adamade/1' }))
    const read = await bob.next()
    bob.send(rec(R.SUBSCRIBECREATEANDREAD, { names: ['adamade/1'], correlationId: '4' }))
    const subscribed = [await bob.next(), await bob.next()]
    return { made, updated, refused, read, subscribed, rest: await bob.drain() }
  }))

  it('denies every record action the rules forbid', () => differential('record permission denials', peers, async (peer) => {
    const a = await WireClient.user(peer, BOB)
    const denied = []
    // Each attempt waits for all its replies before the next goes out: the bulk subscribe is
    // acknowledged, then denied; every other attempt gets one denial.
    const attempts = [
      rec(R.SUBSCRIBECREATEANDREAD, { names: ['denied/1'], correlationId: '1' }),
      rec(R.READ, { name: 'denied/1' }),
      rec(R.HEAD, { name: 'denied/1' }),
      rec(R.CREATEANDUPDATE, { name: 'denied/1', version: -1, data: '{}', isWriteAck: true, correlationId: '2' }),
      rec(R.CREATEANDUPDATE, { name: 'readonly/1', version: -1, data: '{}' }),
      rec(R.CREATEANDPATCH, { name: 'owned/ada', version: -1, path: 'p', data: '1', isWriteAck: true, correlationId: '3' }),
      rec(R.DELETE, { name: 'readonly/1' }),
      rec(R.NOTIFY, { names: ['denied/1'], correlationId: '4' }),
      rec(R.LISTEN, { name: 'denied/.*' }),
    ]
    for (const attempt of attempts) {
      a.send(attempt)
      denied.push(await a.next())
      if (attempt.action === R.SUBSCRIBECREATEANDREAD) denied.push(await a.next())
    }
    return { denied, rest: await a.drain() }
  }))

  it('gives the stock client the same records, lists, snapshots, heads and write errors', () => differential('stock client records', peers, async (peer) => {
    const errors: unknown[] = []
    const a = await stockClient(peer, ADA, errors)
    const b = await stockClient(peer, BOB, errors)
    const record = a.record.getRecord('stock/1')
    await record.whenReady()
    const seen: unknown[] = []
    const other = b.record.getRecord('stock/1')
    await other.whenReady()
    other.subscribe((data: unknown) => seen.push(data))
    const written = await outcome(record.setWithAck({ a: 1, list: [1, 2] }))
    const list = a.record.getList('stock/list')
    await list.whenReady()
    list.setEntries(['x', 'y'])
    list.addEntry('z')
    const listAck = await outcome(a.record.setDataWithAck('stock/list2', ['p', 'q']))
    return {
      written,
      listAck,
      entries: list.getEntries(),
      snapshot: await outcome(b.record.snapshot('stock/1')),
      missingSnapshot: await outcome(b.record.snapshot('stock/none')),
      has: [await outcome(b.record.has('stock/1')), await outcome(b.record.has('stock/none'))],
      head: [await outcome(b.record.head('stock/1')), await outcome(b.record.head('stock/none'))],
      denied: await outcome(b.record.setDataWithAck('denied/x', { no: true })),
      deniedSnapshot: await outcome(b.record.snapshot('denied/x')),
      seenByOther: seen,
      errors,
    }
  }))
})

describe('differential: deliberate differences', () => {
  const peers = usePeers()

  it('refuses record paths that reach an object\'s prototype', () => differential('record path __proto__', peers, async (peer) => {
    const a = await WireClient.user(peer, ADA)
    a.send(rec(R.CREATEANDPATCH, { name: 'proto/1', version: -1, path: '__proto__.polluted', data: 'true', isWriteAck: true, correlationId: '1' }))
    return { answer: await a.next(), rest: await a.drain() }
  }))

  it('answers a corrupt frame after login', () => differential('corrupt frame after login', peers, async (peer) => {
    const a = await WireClient.user(peer, ADA)
    a.sendRaw(new Uint8Array([0x08, 0x05, 0x12, 0x40, 0xff, 0xff]))
    return { answer: await a.next(), rest: await a.drain() }
  }))
})
