/**
 * Socket.IO 4.8, the bench's peer for event fan-out (what most Node users
 * pick), in its fastest form: one process on uWebSockets.js (`attachApp`),
 * WebSocket transport only. Subscriptions are rooms; an emit goes to the
 * room but not to its sender, as deepstream's events do.
 *
 *   node dist/bench/lib/socketio-server.js    (prints `listening <port>`)
 */
import { createRequire } from 'node:module'
import { Server } from 'socket.io'
import type * as UWS from 'uWebSockets.js'

const uws = createRequire(import.meta.url)('uWebSockets.js') as typeof UWS
const app = uws.App()
const io = new Server({ transports: ['websocket'], serveClient: false })
io.attachApp(app)
io.on('connection', (socket) => {
  socket.on('sub', (names: string[], ack?: () => void) => {
    void socket.join(names)
    ack?.()
  })
  socket.on('emit', (name: string, data: string) => { socket.to(name).emit('e', name, data) })
})
app.listen('127.0.0.1', 0, (listenSocket) => {
  if (listenSocket === false) throw new Error('Socket.IO bench server: cannot listen')
  console.log(`listening ${uws.us_socket_local_port(listenSocket as unknown as Parameters<typeof uws.us_socket_local_port>[0])}`)
})
process.on('SIGTERM', () => process.exit(0))
