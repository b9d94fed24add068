import type { Socket, UserSession } from './socket.js'
import type { HandshakeData } from '../plugins/auth/authentication.js'
import type { JSONValue } from '../protocol/message.js'

/** A login or a logout, as custom plugins observe it. */
export interface SessionEvent {
  readonly userId: string
  readonly endpoint: string
  readonly socketId: number
  /** The user's clientData and serverData from authentication. */
  readonly clientData: JSONValue | null
  readonly serverData: JSONValue | null
  /** How the client connected (remote address, headers, referer), when it connected over WebSocket. */
  readonly handshake: HandshakeData | null
}

function sessionEvent (socket: Socket, user: UserSession): SessionEvent {
  return { userId: user.id, endpoint: socket.endpoint, socketId: socket.id, clientData: user.clientData, serverData: user.serverData, handshake: socket.handshake ?? null }
}

export type SessionListener = (event: SessionEvent) => void

/**
 * The logged-in sockets of this node, by user. Presence, the plugin API
 * (close a user's sessions, observe logins and logouts) and monitoring read it.
 */
export class Sessions {
  private readonly byUser = new Map<string, Set<Socket>>()
  private readonly loginListeners: SessionListener[] = []
  private readonly logoutListeners: SessionListener[] = []

  add (socket: Socket): void {
    const user = socket.user
    if (user === null) return
    let sockets = this.byUser.get(user.id)
    if (sockets === undefined) this.byUser.set(user.id, sockets = new Set())
    sockets.add(socket)
    const event = sessionEvent(socket, user)
    for (const listener of this.loginListeners) listener(event)
  }

  remove (socket: Socket): void {
    const user = socket.user
    if (user === null) return
    const sockets = this.byUser.get(user.id)
    if (sockets === undefined || !sockets.delete(socket)) return
    if (sockets.size === 0) this.byUser.delete(user.id)
    const event = sessionEvent(socket, user)
    for (const listener of this.logoutListeners) listener(event)
  }

  socketsOf (userId: string): Socket[] { return [...(this.byUser.get(userId) ?? [])] }

  /** Number of logged-in sockets of a user on this node. */
  count (userId: string): number { return this.byUser.get(userId)?.size ?? 0 }

  /** Closes every socket of a user; returns how many were closed. */
  closeUser (userId: string, reason: string): number {
    const sockets = this.socketsOf(userId)
    for (const socket of sockets) socket.close(reason)
    return sockets.length
  }

  onLogin (listener: SessionListener): void { this.loginListeners.push(listener) }
  onLogout (listener: SessionListener): void { this.logoutListeners.push(listener) }
}
