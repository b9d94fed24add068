/**
 * Example custom plugin, written against riptide's public interface only:
 * - POSTs every login and logout to a webhook (`options.url`);
 * - serves POST /admin/kick {"userId": "..."} to close a user's sessions,
 *   guarded by the `x-admin-token` header (`options.adminToken`).
 *
 * config.yml:
 *   plugins:
 *     webhook:
 *       path: ./dist/examples/login-webhook-plugin.js
 *       options: { url: "http://127.0.0.1:9000/events", adminToken: "${ADMIN_TOKEN}" }
 */
import type { Plugin, PluginApi, PluginOptions, SessionEvent } from '../src/index.js'

export default class LoginWebhookPlugin implements Plugin {
  readonly description = 'login webhook'
  private readonly pending = new Set<Promise<void>>()

  constructor (options: PluginOptions, private readonly api: PluginApi) {
    const url = String(options.url)
    const token = String(options.adminToken ?? '')
    const post = (type: 'login' | 'logout', event: SessionEvent): void => {
      const sent = fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type, ...event }) })
        .then(() => {}, (error: unknown) => api.logger.warn('WEBHOOK_FAILED', `could not post ${type}: ${String(error)}`))
      this.pending.add(sent)
      void sent.finally(() => this.pending.delete(sent))
    }
    api.sessions.onLogin((event) => post('login', event))
    api.sessions.onLogout((event) => post('logout', event))
    api.http.post('/admin/kick', async (request) => {
      if (token === '' || request.headers['x-admin-token'] !== token) return { status: 403, body: 'forbidden' }
      const { userId } = JSON.parse(request.body?.toString('utf8') ?? '{}') as { userId?: string }
      if (typeof userId !== 'string') return { status: 400, body: 'userId required' }
      return { status: 200, body: JSON.stringify({ closed: await this.api.sessions.closeUser(userId, 'kicked by admin') }) }
    })
  }

  async whenReady (): Promise<void> {}

  /** Waits for webhook posts still in flight. */
  async close (): Promise<void> { await Promise.all(this.pending) }
}
