import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads'
import { createRequire } from 'node:module'
const require = createRequire(import.meta.url)
if (isMainThread) {
  const variant = process.argv[2]
  let port = Number(process.argv[3] ?? 0)
  for (let i = 0; i < 2; i++) {
    const w = new Worker(new URL(import.meta.url), { workerData: { i, port, variant } })
    w.on('exit', (c) => console.log('worker exit', i, c))
    const got = await new Promise((r) => w.once('message', r))
    console.log('worker', i, 'listening', got)
    if (port === 0) port = got
  }
  setTimeout(() => { console.log('main exit'); process.exit(0) }, 500)
} else {
  const uws = require('uWebSockets.js')
  const app = uws.App().get('/*', (res) => res.end(String(workerData.i)))
  const cb = (t) => { parentPort.postMessage(t ? uws.us_socket_local_port(t) : -1); if (t) setTimeout(() => { uws.us_listen_socket_close(t); parentPort.close() }, 200) }
  if (workerData.variant === 'host') app.listen('127.0.0.1', workerData.port, cb)
  else if (workerData.variant === 'noopt') app.listen(workerData.port, cb)
  else app.listen(workerData.port, 0, cb)
}
