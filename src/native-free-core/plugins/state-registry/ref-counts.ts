/** Reference counts per name, as both state registries keep them for this node. */
export class RefCounts {
  private readonly counts = new Map<string, number>()

  /** Counts one more reference; true when the name had none. */
  add (name: string): boolean {
    const count = this.counts.get(name) ?? 0
    this.counts.set(name, count + 1)
    return count === 0
  }

  /** Drops one reference; true when that was the last one (false also when there was none). */
  remove (name: string): boolean {
    const count = this.counts.get(name)
    if (count === undefined) return false
    if (count > 1) {
      this.counts.set(name, count - 1)
      return false
    }
    this.counts.delete(name)
    return true
  }

  has (name: string): boolean { return this.counts.has(name) }
  names (): string[] { return [...this.counts.keys()] }
}
