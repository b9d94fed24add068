/** The event methods @deepstream/client's objects share: `on`, `once`, `off` and `emit`. */
export type Listener = (...args: any[]) => void

export class Emitter {
  private readonly listeners = new Map<string, Listener[]>()

  on (event: string, listener: Listener): this {
    const list = this.listeners.get(event)
    if (list === undefined) this.listeners.set(event, [listener])
    else list.push(listener)
    return this
  }

  once (event: string, listener: Listener): this {
    const once: Listener = (...args) => {
      this.off(event, once)
      listener(...args)
    }
    return this.on(event, once)
  }

  /** Without a listener: every listener of `event`; without arguments: every listener. */
  off (event?: string, listener?: Listener): this {
    if (event === undefined) {
      this.listeners.clear()
      return this
    }
    const list = this.listeners.get(event)
    if (list === undefined) return this
    const kept = listener === undefined ? [] : list.filter((each) => each !== listener)
    if (kept.length === 0) this.listeners.delete(event)
    else this.listeners.set(event, kept)
    return this
  }

  emit (event: string, ...args: unknown[]): this {
    const list = this.listeners.get(event)
    if (list !== undefined) for (const listener of [...list]) listener(...args)
    return this
  }

  hasListeners (event: string): boolean { return this.listeners.has(event) }

  eventNames (): string[] { return [...this.listeners.keys()] }
}
