/**
 * Callbacks by name, for the modules that subscribe on the server once per name. A name's list is
 * replaced, never changed, when a callback comes or goes, so a delivery runs over it without a
 * copy (a callback may unsubscribe while it runs).
 */
export class CallbacksByName<F> {
  private readonly byName = new Map<string, { callbacks: readonly F[], subscribed: Promise<void> }>()
  private static readonly NONE: readonly never[] = []

  /**
   * Adds `callback`. For a name's first callback, `subscribe` tells the
   * server; every caller gets that subscription's promise, so none resolves
   * before the server has it.
   */
  add (name: string, callback: F, subscribe: () => Promise<void>): Promise<void> {
    const entry = this.byName.get(name)
    if (entry !== undefined) {
      if (!entry.callbacks.includes(callback)) entry.callbacks = [...entry.callbacks, callback]
      return entry.subscribed
    }
    const subscribed = subscribe()
    this.byName.set(name, { callbacks: [callback], subscribed })
    // A refused subscription takes its callbacks with it; the callers hear of it through the promise.
    subscribed.catch(() => {
      if (this.byName.get(name)?.subscribed === subscribed) this.byName.delete(name)
    })
    return subscribed
  }

  /** Removes `callback`; true when it was the name's last (the server must hear of it). */
  remove (name: string, callback: F): boolean {
    const entry = this.byName.get(name)
    if (entry === undefined || !entry.callbacks.includes(callback)) return false
    entry.callbacks = entry.callbacks.filter((each) => each !== callback)
    if (entry.callbacks.length > 0) return false
    this.byName.delete(name)
    return true
  }

  /** The name's callbacks as they are now (later changes make a new list). */
  get (name: string): readonly F[] { return this.byName.get(name)?.callbacks ?? CallbacksByName.NONE }

  has (name: string): boolean { return this.byName.has(name) }

  names (): string[] { return [...this.byName.keys()] }
}
