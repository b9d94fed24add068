/**
 * The versions this worker last wrote, by record name: a guess that saves
 * reading a record's version before a write that needs nothing else. A guess
 * can be stale (another thread or process wrote since); the conditional write
 * then fails and the write is decided again against a fresh read, so a guess
 * never decides anything on its own. Bounded: the names remembered first are
 * forgotten first.
 */
export class KnownVersions {
  private readonly versions = new Map<string, number>()

  constructor (private readonly limit = 100_000) {}

  get (name: string): number | undefined {
    return this.versions.get(name)
  }

  /** Remembers `version` as the latest of `name`, forgetting the name remembered first when over the limit. */
  set (name: string, version: number): void {
    this.versions.set(name, version)
    if (this.versions.size > this.limit) this.versions.delete(this.versions.keys().next().value as string)
  }

  forget (name: string): void {
    this.versions.delete(name)
  }
}
