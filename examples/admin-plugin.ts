/**
 * Example custom plugin: an operator's HTTP routes, guarded by the `x-admin-token` header
 * (`options.token`), for what the deepstream plugin page says a plugin can do:
 * - POST /ops/permissions/refresh: reads the Valve rules again on every worker, keeping the
 *   rules in force when the new ones are invalid (the error is in the answer);
 * - POST /ops/timeouts {"key": "rpc.responseTimeout", "ms": 2000}: changes a timeout at run time;
 * - POST /ops/announcement {"text": "..."}: stores the text in the record `ops/announcement`
 *   (subscribers see the update) and answers with its new version.
 *
 * config.yml:
 *   plugins:
 *     ops:
 *       path: ./dist/examples/admin-plugin.js
 *       options: { token: "${OPS_TOKEN}" }
 */
import type { HttpRequest, HttpResponse, Plugin, PluginApi, PluginOptions, TimeoutKey } from '../src/index.js'

const json = (status: number, body: unknown): HttpResponse => ({ status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

export default class AdminPlugin implements Plugin {
  readonly description = 'ops routes'

  constructor (options: PluginOptions, private readonly api: PluginApi) {
    const token = typeof options.token === 'string' ? options.token : ''
    if (token.length < 16) throw new Error('ops plugin: options.token must be at least 16 characters')
    const guarded = (serve: (body: Record<string, unknown>) => Promise<HttpResponse>) => async (request: HttpRequest): Promise<HttpResponse> => {
      if (request.headers['x-admin-token'] !== token) return json(403, { error: 'forbidden' })
      let body: Record<string, unknown>
      try {
        body = JSON.parse(request.body?.toString('utf8') || '{}') as Record<string, unknown>
      } catch {
        return json(400, { error: 'the body must be JSON' })
      }
      try {
        return await serve(body)
      } catch (error) {
        return json(400, { error: error instanceof Error ? error.message : String(error) })
      }
    }
    api.http.post('/ops/permissions/refresh', guarded(async () => {
      await this.api.permissions.reload()
      return json(200, { refreshed: true })
    }))
    api.http.post('/ops/timeouts', guarded(async ({ key, ms }) => {
      this.api.timeouts.set(key as TimeoutKey, Number(ms))
      return json(200, { [String(key)]: this.api.timeouts.get(key as TimeoutKey) })
    }))
    api.http.post('/ops/announcement', guarded(async ({ text }) => {
      if (typeof text !== 'string') return json(400, { error: 'text must be a string' })
      await this.api.records.set('ops/announcement', { text, at: Date.now() })
      return json(200, { version: (await this.api.records.get('ops/announcement'))?.version })
    }))
  }

  async whenReady (): Promise<void> {}
  async close (): Promise<void> {}
}
