/**
 * Listening, or "active data providers", for one topic.
 * Providers register regex patterns; when a name first gets a subscriber,
 * matching providers are asked one at a time (under a cluster lock) until
 * one accepts; when the last subscriber leaves, the provider is told to stop.
 */
import type { Socket } from '../connection/socket.js'
import type { Message } from '../protocol/message.js'
import type { Topic } from '../protocol/constants.js'
import type { CoreServices } from './services.js'
import type { SubscriptionRegistry } from '../plugins/subscription-registry/subscription-registry.js'
import type { StateRegistry } from '../plugins/state-registry/state-registry.js'
import { unsafeRegexReason } from './safe-regex.js'

export interface ListenActions {
  LISTEN: number
  UNLISTEN: number
  LISTEN_ACCEPT: number
  LISTEN_REJECT: number
  SUBSCRIPTION_FOR_PATTERN_FOUND: number
  SUBSCRIPTION_FOR_PATTERN_REMOVED: number
  INVALID_LISTEN_REGEX: number
  LISTEN_RESPONSE_TIMEOUT: number
}

interface Candidate { socket: Socket, pattern: string }
interface Pending { candidates: Candidate[], current: Candidate | null, timer: NodeJS.Timeout | null, lock: string }

export class ListenRegistry {
  private readonly patterns = new Map<string, { regex: RegExp, providers: Set<Socket> }>()
  private readonly bySocket = new Map<Socket, Set<string>>()
  private readonly active = new Map<string, Candidate>()
  private readonly pending = new Map<string, Pending>()
  private readonly retries = new Map<string, NodeJS.Timeout>()
  private readonly published: StateRegistry
  private readonly rematch: NodeJS.Timeout | null

  constructor (
    private readonly topic: Topic,
    private readonly actions: ListenActions,
    private readonly services: CoreServices,
    private readonly subscriptions: SubscriptionRegistry,
    /** Told when a name gains or loses its provider. */
    private readonly onProviderChange: (name: string, hasProvider: boolean) => void,
  ) {
    // Which names have a provider, on any worker. Every worker tells its own
    // subscribers when that changes, and looks for a new provider when one goes.
    this.published = services.states.getStateRegistry(`published/${topic}`)
    this.published.onAdd((name) => this.onProviderChange(name, true))
    this.published.onRemove((name) => {
      this.onProviderChange(name, false)
      this.startMatch(name)
    })
    const interval = services.config.listen.rematchInterval
    this.rematch = interval > 0 ? setInterval(() => this.rematchAll(), interval) : null
    this.rematch?.unref()
  }

  hasProvider (name: string): boolean { return this.active.has(name) || this.published.has(name) }

  /**
   * Tells subscribers now of a provider another worker added or dropped whose notice is still on
   * its way here (hasProvider already reads it): a socket that subscribes after this is told of
   * later changes only, and never misses one that its subscription's answer did not include.
   */
  settle (name: string): void { this.published.settle?.(name) }

  handle (socket: Socket, message: Message): void {
    const { actions } = this
    switch (message.action) {
      case actions.LISTEN: this.listen(socket, message); return
      case actions.UNLISTEN: this.unlisten(socket, message); return
      case actions.LISTEN_ACCEPT: this.accept(socket, message.name ?? '', message.subscription ?? ''); return
      case actions.LISTEN_REJECT: this.reject(socket, message.name ?? '', message.subscription ?? '')
    }
  }

  private listen (socket: Socket, message: Message): void {
    const pattern = message.name ?? ''
    let regex: RegExp
    try {
      const unsafe = unsafeRegexReason(pattern)
      if (unsafe !== null) throw new Error(unsafe)
      regex = new RegExp(pattern)
    } catch {
      socket.send({ topic: message.topic, action: this.actions.INVALID_LISTEN_REGEX, name: pattern })
      return
    }
    let entry = this.patterns.get(pattern)
    if (entry === undefined) this.patterns.set(pattern, entry = { regex, providers: new Set() })
    entry.providers.add(socket)
    let mine = this.bySocket.get(socket)
    if (mine === undefined) this.bySocket.set(socket, mine = new Set())
    mine.add(pattern)
    socket.send({ ...message, isAck: true })
    for (const name of this.subscriptions.getNames()) {
      if (!regex.test(name)) continue
      // A match in progress takes the new provider as its last candidate: it might otherwise end
      // without a provider, with nothing left to start another.
      const pending = this.pending.get(name)
      if (pending !== undefined) pending.candidates.push({ socket, pattern })
      else this.startMatch(name)
    }
  }

  private unlisten (socket: Socket, message: Message): void {
    const pattern = message.name ?? ''
    this.removePattern(socket, pattern)
    socket.send({ ...message, isAck: true })
  }

  private removePattern (socket: Socket, pattern: string): void {
    const entry = this.patterns.get(pattern)
    if (entry === undefined || !entry.providers.delete(socket)) return
    if (entry.providers.size === 0) this.patterns.delete(pattern)
    this.bySocket.get(socket)?.delete(pattern)
    for (const [name, provider] of [...this.active]) {
      if (provider.socket !== socket || provider.pattern !== pattern) continue
      // The provider stopped listening itself: deepstream tells it nothing more.
      this.dropProvider(name)
      this.startMatch(name)
    }
    for (const [name, pending] of this.pending) {
      pending.candidates = pending.candidates.filter((c) => c.socket !== socket || c.pattern !== pattern)
      if (pending.current?.socket === socket && pending.current.pattern === pattern) this.tryNext(name, pending)
    }
  }

  onSocketClosed (socket: Socket): void {
    const mine = this.bySocket.get(socket)
    if (mine === undefined) return
    for (const pattern of [...mine]) this.removePattern(socket, pattern)
    this.bySocket.delete(socket)
  }

  onFirstSubscription (name: string): void { this.startMatch(name) }

  onLastSubscription (name: string): void {
    const pending = this.pending.get(name)
    if (pending !== undefined) this.finishPending(name, pending)
    const provider = this.active.get(name)
    if (provider === undefined) return
    this.sendRemoved(provider, name)
    this.active.delete(name)
    this.published.remove(name)
  }

  private startMatch (name: string): void {
    if (this.hasProvider(name) || this.pending.has(name) || !this.subscriptions.hasSubscribers(name)) return
    const candidates: Candidate[] = []
    for (const [pattern, entry] of this.patterns) {
      if (!entry.regex.test(name)) continue
      for (const socket of entry.providers) candidates.push({ socket, pattern })
    }
    if (candidates.length === 0) return
    if (this.services.config.listen.shuffleProviders) shuffle(candidates)
    const pending: Pending = { candidates, current: null, timer: null, lock: `${this.topic}_LISTEN_LOCK_${name}` }
    this.pending.set(name, pending)
    void this.services.locks.get(pending.lock).then((locked) => {
      if (this.pending.get(name) !== pending) {
        if (locked) this.services.locks.release(pending.lock)
        return
      }
      if (!locked) {
        // Another node is matching this name. If it ends without a provider
        // (its candidates all refused or left), ours must get their turn.
        this.pending.delete(name)
        this.retryLater(name)
        return
      }
      // Another node may have found a provider (or lost the last subscriber) between the look
      // above and the lock: its provider is published before it lets the lock go.
      if (this.published.has(name) || !this.subscriptions.hasSubscribers(name)) {
        this.finishPending(name, pending)
        return
      }
      // Hosts on Redis: this node's copy of what other hosts publish may not have the provider of
      // the node that let the lock go yet; Redis has it (see accept).
      const elsewhere = this.published.heldElsewhere?.(name)
      if (elsewhere === undefined) {
        this.tryNext(name, pending)
        return
      }
      void elsewhere.then((held) => {
        if (this.pending.get(name) !== pending) return // finished meanwhile, and the lock with it
        if (held) this.finishPending(name, pending)
        else this.tryNext(name, pending)
      })
    })
  }

  private retryLater (name: string): void {
    if (this.retries.has(name)) return
    const timer = setTimeout(() => {
      this.retries.delete(name)
      this.startMatch(name)
    }, this.services.timeouts.get('listen.responseTimeout'))
    timer.unref()
    this.retries.set(name, timer)
  }

  private tryNext (name: string, pending: Pending): void {
    if (pending.timer !== null) clearTimeout(pending.timer)
    pending.timer = null
    const next = pending.candidates.shift()
    if (next === undefined) {
      this.finishPending(name, pending)
      return
    }
    pending.current = next
    next.socket.send({ topic: this.topic, action: this.actions.SUBSCRIPTION_FOR_PATTERN_FOUND, name: next.pattern, subscription: name })
    pending.timer = setTimeout(() => {
      // As deepstream: the provider that kept silent is told, and the next one is asked.
      next.socket.send({ topic: this.topic, action: this.actions.LISTEN_RESPONSE_TIMEOUT, subscription: name })
      this.tryNext(name, pending)
    }, this.services.timeouts.get('listen.responseTimeout'))
  }

  /** Ends a match; its lock goes at once, or once `shared` resolves. */
  private finishPending (name: string, pending: Pending, shared?: Promise<void>): void {
    if (pending.timer !== null) clearTimeout(pending.timer)
    pending.timer = null
    if (this.pending.get(name) === pending) this.pending.delete(name)
    if (shared === undefined) this.services.locks.release(pending.lock)
    else void shared.then(() => this.services.locks.release(pending.lock))
  }

  private accept (socket: Socket, pattern: string, name: string): void {
    const pending = this.pending.get(name)
    const isCurrent = pending?.current?.socket === socket && pending.current.pattern === pattern
    if (this.hasProvider(name) || !this.subscriptions.hasSubscribers(name) || (pending !== undefined && !isCurrent)) {
      if (pending !== undefined && isCurrent) this.finishPending(name, pending)
      // Too late, or someone else provides it: tell this provider to stop.
      this.sendRemoved({ socket, pattern }, name)
      return
    }
    this.active.set(name, { socket, pattern })
    this.published.add(name)
    // The lock goes only now, so that the node that takes it next sees the provider: on hosts
    // joined by Redis, once Redis has it.
    if (pending !== undefined && isCurrent) this.finishPending(name, pending, this.published.whenShared?.(name))
  }

  private reject (socket: Socket, pattern: string, name: string): void {
    const pending = this.pending.get(name)
    if (pending?.current?.socket === socket && pending.current.pattern === pattern) {
      this.tryNext(name, pending)
      return
    }
    const provider = this.active.get(name)
    if (provider?.socket === socket && provider.pattern === pattern) this.dropProvider(name)
  }

  private dropProvider (name: string): void {
    if (!this.active.delete(name)) return
    this.published.remove(name)
  }

  private sendRemoved (provider: Candidate, name: string): void {
    provider.socket.send({ topic: this.topic, action: this.actions.SUBSCRIPTION_FOR_PATTERN_REMOVED, name: provider.pattern, subscription: name })
  }

  private rematchAll (): void {
    for (const name of this.subscriptions.getNames()) this.startMatch(name)
  }

  close (): void {
    if (this.rematch !== null) clearInterval(this.rematch)
    for (const timer of this.retries.values()) clearTimeout(timer)
    this.retries.clear()
    for (const [name, pending] of [...this.pending]) this.finishPending(name, pending)
  }
}

function shuffle<T> (items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const tmp = items[i]
    items[i] = items[j]
    items[j] = tmp
  }
}
