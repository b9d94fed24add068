/** Callbacks by name, for the modules that subscribe on the server once per name. */
export class CallbacksByName<F> {
  private readonly byName = new Map<string, { callbacks: Set<F>, subscribed: Promise<void> }>()

  /**
   * Adds `callback`. For a name's first callback, `subscribe` tells the
   * server; every caller gets that subscription's promise, so none resolves
   * before the server has it.
   */
  add (name: string, callback: F, subscribe: () => Promise<void>): Promise<void> {
    const entry = this.byName.get(name)
    if (entry !== undefined) {
      entry.callbacks.add(callback)
      return entry.subscribed
    }
    const subscribed = subscribe()
    this.byName.set(name, { callbacks: new Set([callback]), subscribed })
    // A refused subscription takes its callbacks with it; the callers hear of it through the promise.
    subscribed.catch(() => {
      if (this.byName.get(name)?.subscribed === subscribed) this.byName.delete(name)
    })
    return subscribed
  }

  /** Removes `callback`; true when it was the name's last (the server must hear of it). */
  remove (name: string, callback: F): boolean {
    const callbacks = this.byName.get(name)?.callbacks
    if (callbacks === undefined || !callbacks.delete(callback) || callbacks.size > 0) return false
    this.byName.delete(name)
    return true
  }

  /** The name's callbacks, copied: a callback may unsubscribe while they run. */
  get (name: string): F[] { return [...(this.byName.get(name)?.callbacks ?? [])] }

  has (name: string): boolean { return this.byName.has(name) }

  names (): string[] { return [...this.byName.keys()] }
}
