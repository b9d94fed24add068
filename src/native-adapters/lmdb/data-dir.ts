/**
 * Checks a record data directory before LMDB opens it. lmdb-js crashes the
 * whole process (SIGSEGV) on a data file whose meta pages are garbage, so a
 * corrupt or foreign file must be refused here, with an error naming it,
 * rather than handed to the native code.
 *
 * An LMDB data file starts with two meta pages (page 0 and page 1). In the
 * LMDB that lmdb-js builds, a page header is 24 bytes:
 *
 *   offset  size  field
 *   0x00    8     page number (0 or 1)
 *   0x08    8     transaction id of the page
 *   0x10    2     padding
 *   0x12    2     page flags: 0x08 = P_META
 *   0x14    4     lower/upper bounds (unused in meta pages)
 *   0x18    4     mm_magic   = 0xBEEFC0DE
 *   0x1c    4     mm_version = 2 (MDB_DATA_VERSION)
 *   0x20    16    fixed address, map size
 *   0x30    4     page size (md_pad of the free-list database record)
 */
import { accessSync, constants, existsSync, mkdirSync, openSync, readSync, closeSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { RiptideError, errorMessage } from '../../native-free-core/errors.js'

export const DATA_FILE = 'records.mdb'

const META_FLAG = 0x08
const MAGIC = 0xbeefc0de
const DATA_VERSION = 2

function invalid (message: string, cause?: unknown): RiptideError {
  return new RiptideError('RT_DATA_DIR_INVALID', message, { cause })
}

/** Why a meta page (its first 0x40 bytes) is not valid, or null when it is. */
function metaPageProblem (page: Buffer, expectedNumber: number): string | null {
  if (page.readUInt32LE(0) !== expectedNumber || page.readUInt32LE(4) !== 0) return `page ${expectedNumber} has page number ${page.readUInt32LE(0)}`
  if ((page.readUInt16LE(0x12) & META_FLAG) === 0) return `page ${expectedNumber} is not a meta page`
  if (page.readUInt32LE(0x18) !== MAGIC) return `page ${expectedNumber} lacks the LMDB magic number`
  const version = page.readUInt32LE(0x1c)
  if (version !== DATA_VERSION) return `page ${expectedNumber} has LMDB data version ${version}, expected ${DATA_VERSION}`
  return null
}

/** Checks both meta pages of an existing data file; throws RT_DATA_DIR_INVALID when they are not LMDB's. */
export function checkDataFile (file: string): void {
  const size = statSync(file).size
  const fd = openSync(file, 'r')
  try {
    const first = Buffer.alloc(0x40)
    if (size < 0x40 || readSync(fd, first, 0, 0x40, 0) !== 0x40) throw invalid(`${file} is too short (${size} bytes) to be an LMDB data file; it is corrupt`)
    const problem = metaPageProblem(first, 0)
    if (problem !== null) throw invalid(`${file} is not a valid LMDB data file (${problem}); it is corrupt or not riptide's`)
    const pageSize = first.readUInt32LE(0x30)
    if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) throw invalid(`${file} has an impossible page size ${pageSize}; it is corrupt`)
    const second = Buffer.alloc(0x40)
    if (size < pageSize * 2 || readSync(fd, second, 0, 0x40, pageSize) !== 0x40) throw invalid(`${file} is truncated (${size} bytes, page size ${pageSize}); it is corrupt`)
    const secondProblem = metaPageProblem(second, 1)
    if (secondProblem !== null) throw invalid(`${file} is not a valid LMDB data file (${secondProblem}); it is corrupt`)
  } finally {
    closeSync(fd)
  }
}

/**
 * Makes sure `path` is a readable, writable directory (creating it when
 * missing) and that a data file already in it looks like LMDB's. Returns the
 * absolute data file path and whether it existed before.
 */
export function prepareDataDirectory (path: string): { file: string, existed: boolean } {
  const dir = resolve(path)
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw invalid(`record data directory ${dir} is a file, not a directory`)
  try {
    mkdirSync(dir, { recursive: true })
    accessSync(dir, constants.R_OK | constants.W_OK)
  } catch (error) {
    throw invalid(`record data directory ${dir} cannot be created or written: ${errorMessage(error)}`, error)
  }
  const file = join(dir, DATA_FILE)
  const existed = existsSync(file)
  if (existed) {
    if (!statSync(file).isFile()) throw invalid(`${file} is not a file`)
    try {
      checkDataFile(file)
    } catch (error) {
      if (error instanceof RiptideError) throw error
      throw invalid(`${file} cannot be read: ${errorMessage(error)}`, error)
    }
  }
  return { file, existed }
}
