import type { Plugin } from '../plugin.js'
import type { JSONValue } from '../../protocol/message.js'

/** A record as stored: its version and its data (an object or an array). */
export interface StoredRecord {
  version: number
  data: JSONValue
}

/**
 * Durable or remote record storage. Every method may be slow; the record
 * handler bounds each call with record.storageRetrievalTimeout.
 */
export interface Storage extends Plugin {
  /**
   * True for a storage that keeps nothing (`none`): the record handler then
   * treats every name as cache-only, so `record.notify` re-reads the cache
   * instead of evicting data that exists nowhere else.
   */
  readonly storesNothing?: boolean
  /** The record, or `null` when the name is unknown. Never throws for a missing name. */
  get (name: string): Promise<StoredRecord | null>
  /** Replaces version and data together (atomically for this name). Resolves once written. */
  set (name: string, version: number, data: JSONValue): Promise<void>
  /** Removes the record; deleting a missing name succeeds. */
  delete (name: string): Promise<void>
  /** Removes every named record; missing names are ignored. */
  deleteBulk (names: string[]): Promise<void>
  /**
   * Resolves once every write that has resolved so far would survive a crash
   * of the host (power loss included, as far as the disk honours a flush).
   * Write acknowledgements wait for it. Absent: `set` already waits for that,
   * or the plugin promises nothing more (memory).
   */
  durable? (): Promise<void>
}

/** The fast tier in front of storage; the source of truth for versions. */
export interface Cache extends Storage {
  /** The version, or -1 when the name is unknown. Reads no value. */
  head (name: string): Promise<number>
  /** Versions of the names present, and the names that are not. */
  headBulk (names: string[]): Promise<{ versions: Record<string, number>, missing: string[] }>
  /**
   * Writes only if the stored version is still `expected` (-1: the name must
   * not exist; any other `expected` fails on a missing name), checking and
   * writing in one step. Resolves `false`, writing nothing, when another
   * writer got there first. A cache shared by several
   * threads or processes needs it so that a version is decided once; without
   * it, the record handler falls back to `set` (safe on one thread only).
   */
  setIfVersion? (name: string, expected: number, version: number, data: JSONValue): Promise<boolean>
}
