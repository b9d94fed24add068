/**
 * Example custom permission plugin, written against riptide's public
 * interface only: a user may only touch names (records, events, RPCs) that
 * contain their own user id, e.g. `todos/ada/1` for user `ada`. Anonymous
 * users may touch nothing. Presence is open to everyone.
 *
 * config.yml:
 *   permission:
 *     path: ./dist/examples/owner-permission-plugin.js
 *     options: { separator: "/" }
 */
import type { Permission, PermissionRequest, PluginOptions } from '../src/index.js'

const PRESENCE_TOPIC = 7

export default class OwnerPermission implements Permission {
  readonly description = 'owner-only permissions'
  private readonly separator: string

  constructor (options: PluginOptions) {
    this.separator = typeof options.separator === 'string' && options.separator !== '' ? options.separator : '/'
  }

  async whenReady (): Promise<void> {}
  async close (): Promise<void> {}

  canPerformAction (request: PermissionRequest): boolean {
    if (request.topic === PRESENCE_TOPIC) return true
    const id = request.user.id
    if (id === '' || id === 'open') return false
    // The id must be a whole segment of the name, not a part of one: "ada" does not own "adam/1".
    return request.name.split(this.separator).includes(id)
  }
}
