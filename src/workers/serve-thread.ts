/**
 * Entry module of a connection worker thread: receives its one serve task
 * from the supervisor, runs it, posts the result and lets the thread end.
 */
import { parentPort } from 'node:worker_threads'
import serve, { type ServeTask } from './serve.js'
import { wireError } from '../native-free-core/errors.js'

parentPort?.once('message', (task: ServeTask) => {
  serve(task).then((result) => parentPort?.postMessage({ result: result ?? null }), (error: unknown) => {
    parentPort?.postMessage({ error: wireError(error) })
  })
})
