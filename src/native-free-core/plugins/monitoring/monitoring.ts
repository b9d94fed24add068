import type { Plugin } from '../plugin.js'
import { SimplePlugin } from '../plugin.js'
import type { Message } from '../../protocol/message.js'
import type { LogLevel } from '../logger/logger.js'

/** Hooks called on the hot path: implementations must be cheap and must not throw. */
export interface Monitoring extends Plugin {
  onErrorLog (level: LogLevel, event: string, message: string): void
  onLogin (allowed: boolean, endpoint: string): void
  onMessageReceived (message: Message, endpoint: string): void
  onMessageSend (message: Message): void
  onBroadcast (message: Message, count: number): void
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
