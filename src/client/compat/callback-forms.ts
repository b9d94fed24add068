/** The two forms of @deepstream/client's asynchronous calls: a promise, or an error-first callback. */
import type { WriteAckCallback } from './record-core.js'

/** `answer` itself without a callback; with one, undefined, and the callback hears (null, value) or (error). */
export function withCallback<T> (answer: Promise<T>, callback: ((error: any, value?: T) => void) | undefined): Promise<T> | undefined {
  if (callback === undefined) return answer
  answer.then((value) => callback(null, value), (error: unknown) => callback(error))
  return undefined
}

/** A write that takes an acknowledgement callback, as a promise: resolves on the ack, rejects with its error. */
export function acknowledged (write: (callback: WriteAckCallback) => void): Promise<void> {
  return new Promise((resolve, reject) => write((error) => { if (error === null) resolve(); else reject(error) }))
}
