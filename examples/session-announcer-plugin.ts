/**
 * Example custom plugin, the one the deepstream plugin page describes: it listens to logins and
 * logouts, logs each in detail (handshake data included) and emits an event that subscribed
 * clients receive, so an app can show who came and went.
 *
 * config.yml:
 *   plugins:
 *     announcer:
 *       path: ./dist/examples/session-announcer-plugin.js
 *       options: { event: sessions }     # the event name; "sessions" by default
 *
 * Clients: client.event.subscribe('sessions', ({ type, userId }) => ...)
 */
import type { Plugin, PluginApi, PluginOptions, SessionEvent } from '../src/index.js'

export default class SessionAnnouncerPlugin implements Plugin {
  readonly description = 'session announcer'

  constructor (options: PluginOptions, api: PluginApi) {
    const eventName = typeof options.event === 'string' ? options.event : 'sessions'
    const announce = (type: 'login' | 'logout', session: SessionEvent): void => {
      const { userId, endpoint, handshake, clientData } = session
      api.logger.info(type === 'login' ? 'USER_LOGIN' : 'USER_LOGOUT', `${userId} via ${endpoint}`, {
        userId, endpoint, clientData, remoteAddress: handshake?.remoteAddress, userAgent: handshake?.headers['user-agent'], referer: handshake?.referer,
      })
      api.events.emit(eventName, { type, userId, endpoint, remoteAddress: handshake?.remoteAddress ?? null })
    }
    api.sessions.onLogin((session) => announce('login', session))
    api.sessions.onLogout((session) => announce('logout', session))
  }

  async whenReady (): Promise<void> {}
  async close (): Promise<void> {}
}
