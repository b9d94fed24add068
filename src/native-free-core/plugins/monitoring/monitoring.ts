import type { Plugin } from '../plugin.js'
import { SimplePlugin } from '../plugin.js'
import type { Message } from '../../protocol/message.js'
import type { LogLevel } from '../logger/logger.js'
import type { HttpHandler } from '../../http/http-routes.js'

/** Hooks called on the hot path: implementations must be cheap and must not throw. */
export interface Monitoring extends Plugin {
  onErrorLog (level: LogLevel, event: string, message: string): void
  onLogin (allowed: boolean, endpoint: string): void
  onMessageReceived (message: Message, endpoint: string): void
  onMessageSend (message: Message): void
  onBroadcast (message: Message, count: number): void
  /** Server-side time to handle one message of `topic`, in microseconds: from its frame's arrival to the end of its synchronous handling. */
  onHandled? (topic: number, micros: number): void
  /** Time from a publish's arrival to its hand-over to subscribers' sockets, in microseconds, on this worker or another. */
  onDelivered? (topic: number, micros: number): void
  /** The number of open WebSocket connections of this worker, whenever it changes. */
  onConnectionCount? (count: number): void
  /** Called once the server is built, with what an endpoint-serving plugin needs. */
  attach? (host: MonitoringHost): void
}

/** What the server gives a monitoring plugin that serves or gathers data. */
export interface MonitoringHost {
  /** Serves GET requests under a path prefix on the server's port. */
  get (prefix: string, handler: HttpHandler): void
  /** Asks every other worker on `channel` and resolves their answers. */
  ask (channel: string, message: Message): Promise<Message[]>
  /** Answers other workers' questions on `channel`. */
  answer (channel: string, answer: (message: Message) => Message): void
  /** This worker's name, and how many workers serve. */
  readonly serverName: string
}

/** monitoring type `none`. */
export class NoopMonitoring extends SimplePlugin implements Monitoring {
  readonly description = 'no monitoring'
  onErrorLog (): void {}
  onLogin (): void {}
  onMessageReceived (): void {}
  onMessageSend (): void {}
  onBroadcast (): void {}
}
