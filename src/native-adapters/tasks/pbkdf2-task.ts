/** Piscina task: one pbkdf2 derivation, off the connection worker's thread. */
import { pbkdf2Sync } from 'node:crypto'

export interface Pbkdf2Task {
  password: string
  salt: string
  iterations: number
  keyLength: number
  digest: string
}

export default function pbkdf2 (task: Pbkdf2Task): Uint8Array {
  return pbkdf2Sync(task.password, task.salt, task.iterations, task.keyLength, task.digest)
}
