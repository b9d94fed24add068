/**
 * `monitoring` may name several plugins (a list in the config): the server sees one, which tells
 * each of them everything.
 */
import type { PluginRef } from '../../config/schema.js'
import type { Plugin } from '../plugin.js'
import type { Monitoring } from './monitoring.js'

/** Builds every monitoring plugin the config names and returns one that feeds them all. */
export async function createMonitoring (ref: PluginRef | PluginRef[], create: (ref: PluginRef) => Promise<Monitoring>): Promise<Monitoring> {
  const refs = Array.isArray(ref) ? ref : [ref]
  const all: Monitoring[] = []
  for (const one of refs) all.push(await create(one))
  if (all.length === 1) return all[0]
  return combineMonitoring(all)
}

function combineMonitoring (all: Monitoring[]): Monitoring {
  const each = (fn: (m: Monitoring) => void): void => { for (const m of all) fn(m) }
  const plugin: Plugin = {
    description: `monitoring (${all.map((m) => m.description).join(', ')})`,
    init: async () => { for (const m of all) await m.init?.() },
    whenReady: async () => { await Promise.all(all.map((m) => m.whenReady())) },
    close: async () => { await Promise.all(all.map((m) => m.close())) },
  }
  return {
    ...plugin,
    onErrorLog: (...args) => each((m) => m.onErrorLog(...args)),
    onLogin: (...args) => each((m) => m.onLogin(...args)),
    onMessageReceived: (...args) => each((m) => m.onMessageReceived(...args)),
    onMessageSend: (...args) => each((m) => m.onMessageSend(...args)),
    onBroadcast: (...args) => each((m) => m.onBroadcast(...args)),
    onHandled: (...args) => each((m) => m.onHandled?.(...args)),
    onDelivered: (...args) => each((m) => m.onDelivered?.(...args)),
    attach: (host) => each((m) => m.attach?.(host)),
    onConnectionCount: (count) => each((m) => m.onConnectionCount?.(count)),
  }
}
