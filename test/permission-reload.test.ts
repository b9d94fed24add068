/**
 * Permission rules reload without a restart, on every worker: on SIGHUP and
 * through the admin route. A bad file is refused and the rules in force stay.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { DeepstreamClient } from '@deepstream/client'
import { closeClients, connect, eventually, killChildren, makeTempDir, removeTempDirs, sleep, spawnServer, startTestServer, workerPort, type Reachable } from './helpers.js'

const ALLOW = 'event:\n  "*":\n    publish: true\n    subscribe: true\n'
const DENY = 'event:\n  "*":\n    publish: false\n    subscribe: true\n'
const BROKEN = 'event:\n  "*":\n    publish: "process.exit()"\n    subscribe: true\n'
const TOKEN = 'admin-token-0123456789'

/** Whether an emit from `publisher` reaches `listener` (false when it is denied). */
async function delivered (publisher: DeepstreamClient, listener: DeepstreamClient, name: string): Promise<boolean> {
  let got = false
  listener.event.subscribe(name, () => { got = true })
  // The client batches subscriptions for 100 ms; under load, give the subscription time to land everywhere.
  await sleep(500)
  publisher.event.emit(name, 1)
  await sleep(400)
  listener.event.unsubscribe(name)
  return got
}

describe('permission reload', () => {
  afterEach(async () => {
    closeClients()
    await killChildren()
    removeTempDirs()
  })

  it('reloads on SIGHUP on every worker, and keeps the rules in force when the file is bad', async () => {
    const dir = makeTempDir()
    const rules = join(dir, 'permissions.yml')
    writeFileSync(rules, ALLOW)
    writeFileSync(join(dir, 'config.yml'), 'logLevel: INFO\npermission:\n  type: config\n  options:\n    permissions: fileLoad(permissions.yml)\n')
    const server = await spawnServer(join(dir, 'config.yml'), ['--workers', '2'])
    let output = ''
    server.process.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
    const publisher = await connect(server)
    const listener = await connect(server)
    expect(await delivered(publisher, listener, 'one')).toBe(true)
    writeFileSync(rules, DENY)
    server.process.kill('SIGHUP')
    await eventually(() => expect(output).toContain('permission rules reloaded on every worker'))
    expect(await delivered(publisher, listener, 'two')).toBe(false)
    writeFileSync(rules, BROKEN)
    server.process.kill('SIGHUP')
    await eventually(() => expect(output).toMatch(/PERMISSION_RELOAD_FAILED.*unknown name \\"process\\".*previous rules stay/))
    expect(await delivered(publisher, listener, 'three')).toBe(false)
    expect(server.process.exitCode).toBeNull()
  })

  it('reloads through the admin route with the admin token, on every worker', async () => {
    const dir = makeTempDir()
    const rules = join(dir, 'permissions.yml')
    writeFileSync(rules, ALLOW)
    const server = await startTestServer({ admin: { token: TOKEN }, permission: { type: 'config', options: { path: 'permissions.yml' } } }, 'uws', dir, 2)
    try {
      const clients: Array<[DeepstreamClient, DeepstreamClient]> = []
      for (const index of [0, 1]) {
        const place: Reachable = server.supervisor === null ? server : workerPort(server, index)
        clients.push([await connect(place), await connect(place)])
      }
      const reload = (authorization?: string): Promise<Response> => fetch(`http://127.0.0.1:${server.port}/admin/permissions/reload`, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization === undefined ? {} : { authorization }) }, body: '{}' })
      expect((await reload()).status).toBe(401)
      expect((await reload('Bearer wrong-token-0000000000')).status).toBe(401)
      writeFileSync(rules, BROKEN)
      const refused = await reload(`Bearer ${TOKEN}`)
      expect(refused.status).toBe(400)
      expect((await refused.json() as { error: string }).error).toMatch(/permissions\.yml: event "\*" publish: rule "process\.exit\(\)" is refused/)
      for (const [publisher, listener] of clients) expect(await delivered(publisher, listener, 'still-open')).toBe(true)
      writeFileSync(rules, DENY)
      expect((await reload(`Bearer ${TOKEN}`)).status).toBe(200)
      for (const [publisher, listener] of clients) await eventually(async () => expect(await delivered(publisher, listener, 'closed')).toBe(false), 3000)
    } finally {
      await server.close()
    }
  })
})
