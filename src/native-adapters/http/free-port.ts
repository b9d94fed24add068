import { createServer } from 'node:net'

/** A TCP port on `host` that was free a moment ago (the OS picks it; nothing holds it after). */
export async function freePort (host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, host, () => {
      const address = probe.address()
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0))
    })
  })
}
