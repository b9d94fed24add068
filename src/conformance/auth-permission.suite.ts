import { describe, expect, it } from 'vitest'
import type { Authentication, Logger, Monitoring, Permission } from '../index.js'

/** Every strategy must answer null ("not mine") or a result, never throw, for any input. */
export function authenticationSuite (name: string, create: () => Authentication, valid: Record<string, unknown>): void {
  describe(`authentication conformance: ${name}`, () => {
    const handshake = { remoteAddress: '127.0.0.1', headers: {}, referer: '' }
    it('accepts valid credentials with an id, and answers odd input without throwing', async () => {
      const auth = create()
      await auth.whenReady()
      const ok = await auth.isValidUser(handshake, valid as never)
      expect(ok?.isValid).toBe(true)
      expect(typeof ok?.id).toBe('string')
      for (const odd of [{}, { username: 1 }, { username: 'x', password: {} }]) {
        const result = await auth.isValidUser(handshake, odd as never)
        expect(result === null || typeof result.isValid === 'boolean').toBe(true)
      }
      await auth.close()
    })
  })
}

export function permissionSuite (name: string, create: () => Permission): void {
  describe(`permission conformance: ${name}`, () => {
    it('answers a boolean or a promise of one', async () => {
      const permission = create()
      await permission.whenReady()
      permission.setRecordReader?.({ read: async () => null })
      const user = { id: 'u', clientData: null, serverData: null }
      const result = await permission.canPerformAction({ user, topic: 4, action: 2, name: 'e', message: { topic: 4, action: 2, name: 'e' } })
      expect(typeof result).toBe('boolean')
      await permission.close()
    })
  })
}


export function loggerSuite (name: string, create: () => Logger): void {
  describe(`logger conformance: ${name}`, () => {
    it('honours levels, namespaces and setLogLevel', async () => {
      const logger = create()
      await logger.whenReady()
      logger.setLogLevel('warn')
      expect(logger.shouldLog('debug')).toBe(false)
      expect(logger.shouldLog('error')).toBe(true)
      const child = logger.getNameSpace('x')
      expect(child.shouldLog('info')).toBe(false)
      logger.setLogLevel('debug')
      expect(child.shouldLog('debug')).toBe(true)
      child.debug('EVENT', 'message')
      await logger.close()
    })
  })
}

export function monitoringSuite (name: string, create: () => Monitoring): void {
  describe(`monitoring conformance: ${name}`, () => {
    it('takes every hook without throwing', async () => {
      const monitoring = create()
      await monitoring.whenReady()
      monitoring.onLogin(true, 'ws-binary')
      monitoring.onMessageReceived({ topic: 4, action: 2 }, 'ws-binary')
      monitoring.onMessageSend({ topic: 4, action: 2 })
      monitoring.onBroadcast({ topic: 4, action: 2 }, 3)
      monitoring.onErrorLog('error', 'E', 'm')
      await monitoring.close()
    })
  })
}
