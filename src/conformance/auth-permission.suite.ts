import { describe, expect, it } from 'vitest'
import type { Authentication, Logger, Monitoring, Permission } from '../index.js'

/**
 * Every strategy must accept `valid` with a user id, refuse `invalid` (null, "not mine", or
 * isValid false) when one is given, and answer odd input with null or a result, never a throw.
 */
export function authenticationSuite (name: string, create: () => Authentication, valid: Record<string, unknown>, invalid?: Record<string, unknown>): void {
  describe(`authentication conformance: ${name}`, () => {
    const handshake = { remoteAddress: '127.0.0.1', headers: {}, referer: '' }
    it('accepts valid credentials with an id, refuses invalid ones, and answers odd input without throwing', async () => {
      const auth = create()
      await auth.whenReady()
      const ok = await auth.isValidUser(handshake, valid as never)
      expect(ok?.isValid).toBe(true)
      expect(typeof ok?.id).toBe('string')
      if (invalid !== undefined) {
        const refused = await auth.isValidUser(handshake, invalid as never)
        expect(refused === null || refused.isValid === false, `refuses ${JSON.stringify(invalid)}`).toBe(true)
      }
      for (const odd of [{}, { username: 1 }, { username: 'x', password: {} }]) {
        const result = await auth.isValidUser(handshake, odd as never)
        expect(result === null || typeof result.isValid === 'boolean').toBe(true)
      }
      await auth.close()
    })
  })
}

/** One permission question and the answer the plugin under test must give. */
export interface PermissionCase {
  readonly topic: number
  readonly action: number
  readonly name: string
  readonly allowed: boolean
  readonly user?: string
  readonly data?: string
}

/**
 * Each case must get its answer, as a boolean or a promise of one. Without cases the suite asks
 * one question (an event emit) and checks only that the answer is a boolean.
 */
export function permissionSuite (name: string, create: () => Permission, cases: readonly PermissionCase[] = []): void {
  describe(`permission conformance: ${name}`, () => {
    it(cases.length === 0 ? 'answers a boolean or a promise of one' : 'answers each case as expected, with a boolean or a promise of one', async () => {
      const permission = create()
      await permission.whenReady()
      permission.setRecordReader?.({ read: async () => null })
      const asked = cases.length === 0 ? [{ topic: 4, action: 2, name: 'e', allowed: undefined }] : cases
      for (const question of asked) {
        const user = { id: ('user' in question ? question.user : undefined) ?? 'u', clientData: null, serverData: null }
        const message = { topic: question.topic, action: question.action, name: question.name, data: 'data' in question ? question.data : undefined }
        const answer = await permission.canPerformAction({ user, topic: question.topic, action: question.action, name: question.name, message: message as never })
        expect(typeof answer).toBe('boolean')
        if (question.allowed !== undefined) expect(answer, `topic ${question.topic} action ${question.action} "${question.name}"`).toBe(question.allowed)
      }
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

/**
 * The hooks run on the hot path of every message: each must return at once with nothing (a
 * returned promise would go unawaited, and its rejection unhandled), for any input.
 */
export function monitoringSuite (name: string, create: () => Monitoring): void {
  describe(`monitoring conformance: ${name}`, () => {
    it('takes every hook synchronously, returning nothing', async () => {
      const monitoring = create()
      await monitoring.whenReady()
      const returned = [
        monitoring.onLogin(true, 'ws-binary'),
        monitoring.onLogin(false, 'http'),
        monitoring.onMessageReceived({ topic: 4, action: 2 }, 'ws-binary'),
        monitoring.onMessageSend({ topic: 4, action: 2 }),
        monitoring.onBroadcast({ topic: 4, action: 2 }, 3),
        monitoring.onBroadcast({ topic: 5, action: 7 }, 0),
        monitoring.onErrorLog('error', 'E', 'm'),
        monitoring.onHandled?.(4, 12.5),
        monitoring.onDelivered?.(4, 250),
        monitoring.onConnectionCount?.(3),
      ]
      expect(returned.every((value) => value === undefined)).toBe(true)
      await monitoring.close()
    })
  })
}
