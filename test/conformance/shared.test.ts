/**
 * The shared-memory plugins of multi-worker mode: the conformance suites of
 * their kinds, then what only shows with two workers. Two "workers" here are
 * two plugin instances in this thread on one SharedMemory, so every
 * interleaving is in the test's hands.
 */
import { describe, expect, it } from 'vitest'
import { createSharedMemory, type SharedMemory } from '../../src/native-free-core/cluster/in-process/shared-memory.js'
import { SharedNameTable } from '../../src/native-free-core/cluster/in-process/name-table.js'
import { WORKER_STATE, WorkerTable } from '../../src/native-free-core/cluster/in-process/worker-table.js'
import { Ring } from '../../src/native-free-core/cluster/in-process/ring.js'
import { WorkerClusterNode } from '../../src/native-free-core/cluster/in-process/worker-cluster-node.js'
import { WorkerClusterRegistry } from '../../src/native-free-core/cluster/in-process/worker-cluster-registry.js'
import { SharedStateRegistryFactory } from '../../src/native-free-core/cluster/in-process/shared-state-registry.js'
import { SharedLockRegistry } from '../../src/native-free-core/cluster/in-process/shared-locks.js'
import { LocalSubscriptionRegistryFactory } from '../../src/native-free-core/plugins/subscription-registry/local-subscription-registry.js'
import { NoopMonitoring } from '../../src/native-free-core/plugins/monitoring/monitoring.js'
import { PinoLogger } from '../../src/native-free-core/plugins/logger/pino-logger.js'
import { decodeEnvelope, encodeEnvelope } from '../../src/native-free-core/cluster/envelope-codec.js'
import { controlMessage, readControl, type Control } from '../../src/native-free-core/cluster/control.js'
import { TOPIC } from '../../src/native-free-core/protocol/constants.js'
import type { Message } from '../../src/index.js'
import { eventually } from '../helpers.js'
import { protobufCodec } from '../../src/native-free-core/protocol/protobuf-codec.js'
import { PresenceHandler } from '../../src/native-free-core/handlers/presence-handler.js'
import { Sessions } from '../../src/native-free-core/connection/sessions.js'
import type { CoreServices } from '../../src/native-free-core/handlers/services.js'
import type { Socket } from '../../src/native-free-core/connection/socket.js'
import { PRESENCE_ACTION, RECORD_ACTION } from '../../src/native-free-core/protocol/constants.js'
import { ListenRegistry } from '../../src/native-free-core/handlers/listen-registry.js'
import { lockRegistrySuite, stateRegistrySuite, subscriptionRegistrySuite } from '../../src/conformance/index.js'

const logger = new PinoLogger({ level: 'off' })

function memory (workers = 2, ringBytes = 1 << 16): SharedMemory {
  const shared = createSharedMemory(workers, ringBytes)
  const table = WorkerTable.attach(shared.workers)
  for (let i = 0; i < workers; i++) table.setState(i, WORKER_STATE.SERVING)
  return shared
}

interface TestWorker { node: WorkerClusterNode, states: SharedStateRegistryFactory, subscriptions: LocalSubscriptionRegistryFactory }

function worker (shared: SharedMemory, index: number): TestWorker {
  const node = new WorkerClusterNode(shared, index, 'test', logger)
  void node.whenReady()
  const states = new SharedStateRegistryFactory(shared, index, node, 'test')
  return { node, states, subscriptions: new LocalSubscriptionRegistryFactory({ state: states, cluster: node, monitoring: new NoopMonitoring() }) }
}

/** Workers 0 and 1 on one fresh SharedMemory. */
function twoWorkers (): [TestWorker, TestWorker] {
  const shared = memory()
  return [worker(shared, 0), worker(shared, 1)]
}

stateRegistrySuite('shared memory', () => worker(memory(1), 0).states)
lockRegistrySuite('shared memory', () => new SharedLockRegistry(memory(1), 0, 50))
subscriptionRegistrySuite('shared memory', () => worker(memory(1), 0).subscriptions)

/** The adds (`+name`) and removes (`-name`) a registry fires, as they fire. */
function watch (registry: { onAdd (l: (name: string) => void): void, onRemove (l: (name: string) => void): void }): string[] {
  const seen: string[] = []
  registry.onAdd((name) => seen.push(`+${name}`))
  registry.onRemove((name) => seen.push(`-${name}`))
  return seen
}

describe('shared memory across two workers', () => {
  it('shows a name to every worker, signals each worker once, and names the workers that hold it', async () => {
    const [w0, w1] = twoWorkers()
    const r1 = w1.states.getStateRegistry('users')
    const seen = watch(r1)
    const r0 = w0.states.getStateRegistry('users')
    r0.add('ada')
    expect(r1.has('ada')).toBe(true)
    expect(r1.nodesWith('ada')).toEqual(['test/0'])
    expect(r0.nodesWith('ada')).toEqual([])
    await eventually(() => expect(seen).toEqual(['+ada']))
    r1.add('ada')
    expect(r0.nodesWith('ada')).toEqual(['test/1'])
    r0.remove('ada')
    expect(r1.has('ada')).toBe(true)
    r1.remove('ada')
    await eventually(() => expect(seen).toEqual(['+ada', '-ada']))
    expect(r0.getAll()).toEqual([])
    await Promise.all([w0.node.close(), w1.node.close()])
  })

  it('settles a change another worker made before its notice arrives, and the notice then fires nothing', async () => {
    const [w0, w1] = twoWorkers()
    const r0 = w0.states.getStateRegistry('users')
    const r1 = w1.states.getStateRegistry('users')
    const seen = watch(r1)
    r0.add('bob')
    r0.add('eve')
    // The notices are messages: worker 1 reads the table before it hears of them.
    expect(r1.has('bob')).toBe(true)
    expect(seen).toEqual([])
    r1.settle('bob')
    expect(seen).toEqual(['+bob'])
    r0.remove('bob')
    r1.settle()
    expect(seen).toEqual(['+bob', '-bob', '+eve'])
    // Notices from one worker arrive in order: once this one is in, the earlier ones were read and fired nothing more.
    r0.add('ann')
    await eventually(() => expect(seen).toEqual(['+bob', '-bob', '+eve', '+ann']))
    await Promise.all([w0.node.close(), w1.node.close()])
  })

  it('answers a presence query and subscription with what it has told earlier subscribers: no leave older than the answer', async () => {
    const [w0, w1] = twoWorkers().map((w) => {
      const sessions = new Sessions()
      // The three services presence reaches; the rest of CoreServices is not needed here.
      const services = { states: w.states, subscriptions: w.subscriptions, sessions } as unknown as CoreServices
      return { ...w, sessions, presence: new PresenceHandler(services) }
    })
    const received: Message[] = []
    let id = 0
    const socket = (user: string, inbox: Message[] | null): Socket => ({
      id: ++id,
      codec: protobufCodec,
      endpoint: 'test',
      user: { id: user, data: {} },
      isClosed: false,
      send: (message: Message) => inbox?.push(message),
      sendFrame: (frame: Uint8Array | string) => inbox?.push(protobufCodec.decode(frame)),
      close: () => {},
    }) as unknown as Socket
    const ada = socket('ada', received)
    const presenceOf = (message: Message): string => `${message.action}:${message.name ?? message.data ?? ''}`
    // A watcher on worker 1 sees bob join: worker 1 has heard of it, not only read it in the table.
    const watched: Message[] = []
    w1.presence.handle(socket('eve', watched), { topic: TOPIC.PRESENCE, action: PRESENCE_ACTION.SUBSCRIBE, names: ['bob'], correlationId: 'w' })
    const bob = socket('bob', null)
    w0.sessions.add(bob)
    await eventually(() => expect(watched.map(presenceOf)).toEqual([`${PRESENCE_ACTION.SUBSCRIBE}:`, `${PRESENCE_ACTION.PRESENCE_JOIN}:bob`]))
    // Worker 0's logout is in the table at once; its notice reaches worker 1 only after this tick.
    w0.sessions.remove(bob)
    w1.presence.handle(ada, { topic: TOPIC.PRESENCE, action: PRESENCE_ACTION.QUERY, names: ['bob'], correlationId: 'q' })
    w1.presence.handle(ada, { topic: TOPIC.PRESENCE, action: PRESENCE_ACTION.SUBSCRIBE, names: ['bob'], correlationId: 's' })
    w0.sessions.add(socket('bob', null))
    await eventually(() => expect(received.map(presenceOf)).toEqual([
      `${PRESENCE_ACTION.QUERY_RESPONSE}:${JSON.stringify({ bob: false })}`,
      `${PRESENCE_ACTION.SUBSCRIBE}:`,
      `${PRESENCE_ACTION.PRESENCE_JOIN}:bob`,
    ]))
    // The earlier subscriber gets the whole story, the leave fired as ada's query settled it.
    expect(watched.map(presenceOf).slice(1)).toEqual([
      `${PRESENCE_ACTION.PRESENCE_JOIN}:bob`, `${PRESENCE_ACTION.PRESENCE_LEAVE}:bob`, `${PRESENCE_ACTION.PRESENCE_JOIN}:bob`,
    ])
    await Promise.all([w0.node.close(), w1.node.close()])
  })

  it('tells record subscribers of a provider another worker dropped and took back, if one subscribed in between', async () => {
    const [w0, w1] = twoWorkers()
    // What a listen registry reaches; no timer runs with rematchInterval 0.
    const services = { states: w1.states, config: { listen: { rematchInterval: 0 } } } as unknown as CoreServices
    const told: string[] = []
    const listeners = new ListenRegistry(TOPIC.RECORD, RECORD_ACTION, services, w1.subscriptions.getSubscriptionRegistry('record'), (name, has) => told.push(`${name}:${has}`))
    const published = w0.states.getStateRegistry(`published/${TOPIC.RECORD}`)
    published.add('weather')
    await eventually(() => expect(told).toEqual(['weather:true']))
    // Worker 0's provider goes and comes back; a socket subscribes on worker 1 in between, before the notices arrive.
    published.remove('weather')
    listeners.settle('weather')
    expect(listeners.hasProvider('weather')).toBe(false)
    published.add('weather')
    await eventually(() => expect(told).toEqual(['weather:true', 'weather:false', 'weather:true']))
    await Promise.all([w0.node.close(), w1.node.close()])
  })

  it('reads a name\'s workers again once any worker changes the table, however often it was read before', async () => {
    const [w0, w1] = twoWorkers()
    const r0 = w0.states.getStateRegistry('users')
    const r1 = w1.states.getStateRegistry('users')
    for (let i = 0; i < 3; i++) expect(r0.workersWith('ada')).toBe(0)
    r1.add('ada')
    expect(r0.workersWith('ada')).toBe(0b10)
    expect(r0.has('ada')).toBe(true)
    // A change to another registry's name moves the same table on.
    w1.states.getStateRegistry('other').add('bob')
    expect(r0.workersWith('ada')).toBe(0b10)
    r1.remove('ada')
    expect(r0.workersWith('ada')).toBe(0)
    expect(r0.has('ada')).toBe(false)
    r0.add('ada')
    expect(r1.workersWith('ada')).toBe(0b01)
    expect(r0.workersWith('ada')).toBe(0)
    await Promise.all([w0.node.close(), w1.node.close()])
  })

  it('sends a name\'s messages only to the workers that have subscribers of it', async () => {
    const [w0, w1] = twoWorkers()
    const s0 = w0.subscriptions.getSubscriptionRegistry('event')
    const s1 = w1.subscriptions.getSubscriptionRegistry('event')
    const crossed: string[] = []
    w1.node.subscribe('subscriptions/event', (message) => crossed.push(message.name ?? ''))
    const socket = { id: 1, codec: protobufCodec, endpoint: 'test', user: null, isClosed: false, send: () => {}, sendFrame: () => {}, close: () => {} }
    s0.subscribe('only-here', socket)
    s0.publish('only-here', { topic: 4, action: 2, name: 'only-here', data: '1' }, null)
    s1.subscribe('both', { ...socket, id: 2 })
    s0.publish('both', { topic: 4, action: 2, name: 'both', data: '1' }, null)
    // One sender's messages arrive in order: 'only-here' would have crossed before 'both'.
    await eventually(() => expect(crossed).toEqual(['both']))
    await Promise.all([w0.node.close(), w1.node.close()])
  })

  it('grants a lock to one worker, and to another once the holder is dead', async () => {
    const shared = memory()
    const a = new SharedLockRegistry(shared, 0, 60_000)
    const b = new SharedLockRegistry(shared, 1, 60_000)
    expect(await a.get('listen-lock')).toBe(true)
    expect(await b.get('listen-lock')).toBe(false)
    b.release('listen-lock')
    expect(await b.get('listen-lock')).toBe(false)
    WorkerTable.attach(shared.workers).setState(0, WORKER_STATE.DEAD)
    expect(await b.get('listen-lock')).toBe(true)
  })

  it('delivers every message in order through a full ring, holding back rather than dropping', async () => {
    const shared = memory(2, 4096)
    const w0 = worker(shared, 0)
    const w1 = worker(shared, 1)
    const received: number[] = []
    w1.node.subscribe('numbers', (message) => received.push(message.version ?? -1))
    for (let i = 0; i < 2000; i++) w0.node.sendDirect('test/1', 'numbers', { topic: 4, action: 2, name: 'n', version: i, data: JSON.stringify('x'.repeat(50)) })
    await eventually(() => expect(received).toHaveLength(2000), 5000)
    expect(received).toEqual(Array.from({ length: 2000 }, (_, i) => i))
    await Promise.all([w0.node.close(), w1.node.close()])
  })

  it('passes a fence once the other worker has handled what was sent before it', async () => {
    const shared = memory(3)
    const w0 = worker(shared, 0)
    const w1 = worker(shared, 1)
    const w2 = worker(shared, 2)
    const received: number[] = []
    w1.node.subscribe('numbers', (message) => received.push(message.version ?? -1))
    for (let i = 0; i < 300; i++) w0.node.sendDirect('test/1', 'numbers', { topic: 4, action: 2, name: 'n', version: i })
    const seenAtFence: number[] = []
    // One question per worker and iteration, shared by the fences asked for in it.
    const fences = [w0.node.fence(0b110), w0.node.fence(0b010)]
    await Promise.all(fences.map(async (fence) => { await fence; seenAtFence.push(received.length) }))
    expect(seenAtFence).toEqual([300, 300])
    // Nothing to wait for: no bit but its own, or only a dead worker's.
    expect(w0.node.fence(0b001)).toBeNull()
    WorkerTable.attach(shared.workers).setState(2, WORKER_STATE.DEAD)
    expect(w0.node.fence(0b100)).toBeNull()
    await Promise.all([w0.node.close(), w1.node.close(), w2.node.close()])
  })

  it('gives up on a fence whose worker does not answer, or dies before it does', async () => {
    const shared = memory(3)
    const w0 = worker(shared, 0)
    // Workers 1 and 2 are marked serving, but nothing reads their rings.
    const silent = w0.node.fence(0b010)
    const dying = w0.node.fence(0b100)
    expect(silent).not.toBeNull()
    expect(dying).not.toBeNull()
    await new Promise((resolve) => setImmediate(resolve)) // the questions are written
    WorkerTable.attach(shared.workers).setState(2, WORKER_STATE.DEAD)
    // The backstop, once a second, lets go of a dead worker's fences, and of any older than a
    // second (this test's time limit is what fails when it does not).
    await Promise.all([dying, silent])
    const after = w0.node.fence(0b010)
    await w0.node.close() // ... and closing lets go of the rest
    await after
  })

  it('leads with the lowest live worker and hears about workers starting and dying', async () => {
    const shared = memory(3)
    const { node } = worker(shared, 1)
    const registry = new WorkerClusterRegistry(shared, 1, 'test', node)
    expect(registry.getLeader()).toBe('test/0')
    expect(registry.isLeader()).toBe(false)
    WorkerTable.attach(shared.workers).setState(0, WORKER_STATE.DEAD)
    expect(registry.isLeader()).toBe(true)
    expect(registry.getAll()).toEqual(['test/1', 'test/2'])
    await node.close()
  })
})

describe('shared name table', () => {
  it('keeps every live name through growth and rebuilds, and reclaims removed ones', () => {
    const table = SharedNameTable.create(16, 256)
    for (let i = 0; i < 5000; i++) table.update(`name/${i}`, () => ({ value: 1, aux: i }))
    for (let i = 0; i < 5000; i += 2) table.update(`name/${i}`, () => ({ value: 0, aux: 0 }))
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 500; i++) table.update(`churn/${round}/${i}`, () => ({ value: 2, aux: 0 }))
      for (let i = 0; i < 500; i++) table.update(`churn/${round}/${i}`, () => ({ value: 0, aux: 0 }))
    }
    expect(table.get('name/1')).toEqual({ value: 1, aux: 1 })
    expect(table.get('name/2')).toBeNull()
    expect(table.entries('name/')).toHaveLength(2500)
    expect(table.entries('churn/')).toHaveLength(0)
    const afterChurn = table.byteLength
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 500; i++) table.update(`again/${round}/${i}`, () => ({ value: 2, aux: 0 }))
      for (let i = 0; i < 500; i++) table.update(`again/${round}/${i}`, () => ({ value: 0, aux: 0 }))
    }
    expect(table.byteLength).toBe(afterChurn)
    const emptied = table.updateAll((value) => value & ~1)
    expect(emptied).toHaveLength(2500)
    expect(table.entries()).toEqual([])
  })

  it('shows a thread every name another thread added after growing the table past what the first one had seen', () => {
    const grower = SharedNameTable.create(16, 256)
    const reader = SharedNameTable.attach(grower.buffer, 2)
    reader.update('early', () => ({ value: 1, aux: 0.5 }))
    const before = grower.byteLength
    for (let i = 0; i < 3000; i++) grower.update(`grown/${i}`, () => ({ value: i + 1, aux: i }))
    expect(grower.byteLength).toBeGreaterThan(before)
    // The reader's views were made before the growth: it reads and writes the grown table all the same.
    expect(reader.get('grown/2999')).toEqual({ value: 3000, aux: 2999 })
    expect(reader.get('early')).toEqual({ value: 1, aux: 0.5 })
    expect(reader.entries('grown/')).toHaveLength(3000)
    reader.update('grown/0', () => ({ value: 0, aux: 0 }))
    for (let i = 0; i < 3000; i++) reader.update(`late/${i}`, () => ({ value: 9999, aux: 0 }))
    expect(grower.get('grown/0')).toBeNull()
    expect(grower.get('late/2999')).toEqual({ value: 9999, aux: 0 })
    expect(grower.updateAll((value) => (value === 9999 ? 0 : value))).toHaveLength(3000)
    expect(reader.entries('late/')).toEqual([])
  })

  it('refuses a payload larger than a ring can ever hold, naming the limit', () => {
    const ring = Ring.create(1024)
    expect(() => ring.tryWrite(new Uint8Array(1000))).toThrow(/limit of 504/)
  })
})

describe('ring wake-ups', () => {
  const read = (ring: Ring): number[] => {
    const seen: number[] = []
    ring.drain((payload) => seen.push(payload[0]))
    return seen
  }

  it('a consumer finds records written before it waits, signalled or not', async () => {
    const ring = Ring.create(1024)
    ring.tryWrite(Uint8Array.of(1), false)
    const started = Date.now()
    await ring.waitForData(10_000)
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(read(ring)).toEqual([1])
  })

  it('a waiting consumer wakes once a producer signals after its records', async () => {
    const ring = Ring.create(1024)
    const started = Date.now()
    const waiting = ring.waitForData(10_000)
    setImmediate(() => {
      ring.tryWrite(Uint8Array.of(2), false)
      ring.tryWrite(Uint8Array.of(3), false)
      ring.signalConsumer()
    })
    await waiting
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(read(ring)).toEqual([2, 3])
  })

  it('a cluster node that sleeps without a timeout still finds a record nobody signalled, within its backstop', async () => {
    const shared = memory()
    const receiver = worker(shared, 1).node
    const received: Message[] = []
    receiver.subscribe('unannounced', (message) => { received.push(message) })
    try {
      // Once the receive loop sleeps, a record arrives with no signal (as from a producer that died before its signal).
      await eventually(() => expect(Ring.attach(shared.rings[1], 1).waiting).toBe(true))
      const ring = Ring.attach(shared.rings[1], 1)
      expect(ring.tryWrite(encodeEnvelope('unannounced', 0, { topic: TOPIC.EVENT, action: 2, name: 'late' }), false)).toBe(true)
      await eventually(() => expect(received).toEqual([{ topic: TOPIC.EVENT, action: 2, name: 'late' }]), 5_000)
    } finally {
      await receiver.close()
    }
  })
})

describe('cluster envelope codec', () => {
  it('round-trips every message field, telling absent from false, zero and empty', () => {
    const messages: Message[] = [
      { topic: 5, action: 18, name: 'a', version: 0, data: '{"x":1}', isWriteAck: false, correlationId: '' },
      { topic: 5, action: 21, names: [], versions: {} },
      { topic: 5, action: 21, names: ['x', 'y'], versions: { x: 3, y: -1 }, originalAction: 0, isAck: true, isError: false },
      { topic: 6, action: 1, requestorName: 'u', requestorData: '{}', subscription: 's', pattern: 'p', url: 'u', path: 'a.b', protocolVersion: '0.1', sdkVersion: '7', sdkType: 'js' },
    ]
    for (const message of messages) {
      const decoded = decodeEnvelope(encodeEnvelope('channel', 3, message).slice())
      expect(decoded).toEqual({ channel: 'channel', fromWorker: 3, message, receivedAt: 0, frames: null, fromHost: null })
    }
    const stamped = decodeEnvelope(encodeEnvelope('channel', 1, messages[0], 1795860000123.456).slice())
    expect(stamped.receivedAt).toBe(1795860000123.456)
    // Between hosts (the Redis cluster node) an envelope names its host.
    expect(decodeEnvelope(encodeEnvelope('channel', 1, messages[0], 0, undefined, 'host-b').slice()).fromHost).toBe('host-b')
  })

  it('writes and reads every control kind, and reads nothing from a client message or damaged bytes', () => {
    const controls: Control[] = [
      { kind: 'state-notice', registry: 'subscriptions/event', name: 'news\u0000ünï' },
      { kind: 'node-notice', node: 'riptide/1', alive: true },
      { kind: 'node-notice', node: 'riptide/0', alive: false },
      { kind: 'timeout-change', key: 'rpc.ackTimeout', milliseconds: 250 },
      { kind: 'user-sessions', user: 'ada' },
      { kind: 'user-sessions', user: 'ada', closeReason: '' },
      { kind: 'count', value: 3 },
      { kind: 'done' },
    ]
    for (const control of controls) {
      const message = controlMessage(control)
      expect(message.topic).toBe(TOPIC.CLUSTER)
      // Through an envelope, as between workers.
      expect(readControl(decodeEnvelope(encodeEnvelope('c', 0, message).slice()).message)).toEqual(control)
    }
    expect(readControl({ topic: TOPIC.EVENT, action: 2, name: 'n', data: Uint8Array.of(1, 2) })).toBeNull()
    expect(readControl({ topic: TOPIC.CLUSTER, action: 0, data: Uint8Array.of(9, 9, 9) })).toBeNull()
    expect(readControl({ topic: TOPIC.CLUSTER, action: 0, data: '{}' })).toBeNull()
  })

  it('carries the binary frames a sender offers, by codec index, and leaves text frames out', () => {
    const offered = [Uint8Array.of(1, 2), '{"text":true}', Uint8Array.of(), Uint8Array.of(9)]
    const { frames, message } = decodeEnvelope(encodeEnvelope('channel', 0, { topic: 4, action: 2, name: 'n' }, 0, offered).slice())
    expect(message).toEqual({ topic: 4, action: 2, name: 'n' })
    expect(frames?.map((frame) => frame === undefined ? undefined : [...frame as Uint8Array])).toEqual([[1, 2], undefined, [], [9]])
    expect(decodeEnvelope(encodeEnvelope('channel', 0, { topic: 4, action: 2 }, 0, ['only text']).slice()).frames).toBeNull()
  })
})
