/**
 * Permission rules reload without a restart, on every worker: on SIGHUP and
 * through the admin route. A bad file is refused and the rules in force stay.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { closeClients, DEFAULT_KIND, eventually, killChildren, makeTempDir, RawClient, removeTempDirs, sleep, spawnServer, startTestServer, workerPort, type Reachable } from './helpers.js'
import { EVENT_ACTION, TOPIC } from '../src/native-free-core/protocol/constants.js'

const ALLOW = 'event:\n  "*":\n    publish: true\n    subscribe: true\n'
const DENY = 'event:\n  "*":\n    publish: false\n    subscribe: true\n'
const BROKEN = 'event:\n  "*":\n    publish: "process.exit()"\n    subscribe: true\n'
const TOKEN = 'admin-token-0123456789'

/**
 * Whether an emit from `publisher` reaches `listener`: the listener's subscription is acknowledged
 * first, then the emit either arrives or the publisher is told MESSAGE_DENIED (a denied emit is
 * dropped, never forwarded), whichever the server decided.
 */
async function delivered (publisher: RawClient, listener: RawClient, name: string): Promise<boolean> {
  listener.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.SUBSCRIBE, names: [name], correlationId: `sub-${name}` })
  await listener.next((m) => m.correlationId === `sub-${name}` && m.isAck === true)
  publisher.send({ topic: TOPIC.EVENT, action: EVENT_ACTION.EMIT, name, data: '1' })
  const deadline = Date.now() + 3000
  for (;;) {
    if (listener.received.some((m) => m.action === EVENT_ACTION.EMIT && m.name === name)) return true
    if (publisher.received.some((m) => m.action === EVENT_ACTION.MESSAGE_DENIED && m.name === name)) return false
    if (Date.now() > deadline) throw new Error(`the emit of "${name}" was neither delivered nor denied`)
    await sleep(5)
  }
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
    const publisher = await RawClient.login(server)
    const listener = await RawClient.login(server)
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
    publisher.close()
    listener.close()
  })

  it('reloads through the admin route with the admin token, on every worker', async () => {
    const dir = makeTempDir()
    const rules = join(dir, 'permissions.yml')
    writeFileSync(rules, ALLOW)
    const server = await startTestServer({ admin: { token: TOKEN }, permission: { type: 'config', options: { path: 'permissions.yml' } } }, DEFAULT_KIND, dir, 2)
    try {
      // A publisher on each worker, each with a listener on the other, so the emits cross workers.
      const places: Reachable[] = server.supervisor === null ? [server, server] : [workerPort(server, 0), workerPort(server, 1)]
      const clients: Array<[RawClient, RawClient]> = [
        [await RawClient.login(places[0]), await RawClient.login(places[1])],
        [await RawClient.login(places[1]), await RawClient.login(places[0])],
      ]
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
      // The reload answers once every worker has the new rules.
      for (const [publisher, listener] of clients) expect(await delivered(publisher, listener, 'closed')).toBe(false)
      for (const raw of clients.flat()) raw.close()
    } finally {
      await server.close()
    }
  })
})
