/**
 * Reloading the permission rules on every worker, and the admin route that asks for it. The
 * worker that is asked reloads first, then asks the others over the cluster node and waits for
 * each answer, so a caller that hears "reloaded" knows every worker has the new rules.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { loadConfigFile, type LoadedConfig } from '../config/loader.js'
import type { Permission } from '../plugins/permission/permission.js'
import type { Logger } from '../plugins/logger/logger.js'
import type { ClusterQueries } from '../cluster/queries.js'
import { controlMessage } from '../cluster/control.js'
import type { HttpHandler } from '../http/http-routes.js'
import { RiptideError, errorMessage } from '../errors.js'

const RELOAD_PERMISSIONS = 'admin/reload-permissions'

export interface PermissionReloading {
  /** Reloads on this worker only; rejects and keeps the old rules if the new ones do not load. */
  readonly here: () => Promise<void>
  /** Reloads here, then on every other worker; rejects if any worker kept its old rules. */
  readonly everywhere: () => Promise<void>
}

/** Answers other workers' reload requests from now on, and returns the two ways to reload. */
export function permissionReloading (loaded: LoadedConfig, permission: Permission, logger: Logger, queries: ClusterQueries): PermissionReloading {
  const here = async (): Promise<void> => {
    if (permission.reload === undefined) throw new RiptideError('RT_NOT_SUPPORTED', `${permission.description} cannot reload its rules`)
    // The rules as the config says now: the file again, when there is one.
    const options = loaded.file === null ? loaded.config.permission.options : loadConfigFile(loaded.file).config.permission.options
    await permission.reload(options)
    logger.info('PERMISSIONS_RELOADED', `${permission.description}: rules reloaded`)
  }
  const reloaded = controlMessage({ kind: 'done' })
  queries.answer(RELOAD_PERMISSIONS, async () => { await here(); return reloaded })
  const everywhere = async (): Promise<void> => {
    await here()
    const refused = (await queries.ask(RELOAD_PERMISSIONS, reloaded)).find((answer) => answer.isError === true)
    if (refused !== undefined) throw new RiptideError('RT_PERMISSION_RULES_INVALID', `another worker kept its rules: ${String(refused.data)}`)
  }
  return { here, everywhere }
}

/** A POST route guarded by `authorization: Bearer <token>`, answering 200, or 400 with the error. */
export function adminRoute (token: string, action: () => Promise<void>): HttpHandler {
  const expected = createHash('sha256').update(`Bearer ${token}`).digest()
  return async (request) => {
    const given = createHash('sha256').update(request.headers.authorization ?? '').digest()
    if (!timingSafeEqual(given, expected)) return { status: 401, body: JSON.stringify({ error: 'a valid admin token is required' }) }
    try {
      await action()
      return { status: 200, body: JSON.stringify({ reloaded: true }) }
    } catch (error) {
      return { status: 400, body: JSON.stringify({ error: errorMessage(error) }) }
    }
  }
}
