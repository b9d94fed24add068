/**
 * Which permission rule each protocol action asks for: the same for every permission plugin (Valve
 * compiles its rules by these types; the message pipeline checks only the actions listed here).
 */
import { EVENT_ACTION, PRESENCE_ACTION, RECORD_ACTION, RPC_ACTION, TOPIC } from '../../protocol/constants.js'

export type Section = 'record' | 'event' | 'rpc' | 'presence'
export type RuleType = 'create' | 'write' | 'read' | 'delete' | 'listen' | 'notify' | 'publish' | 'subscribe' | 'provide' | 'request' | 'allow'

export const SECTION_BY_TOPIC: Readonly<Record<number, Section>> = {
  [TOPIC.RECORD]: 'record',
  [TOPIC.EVENT]: 'event',
  [TOPIC.RPC]: 'rpc',
  [TOPIC.PRESENCE]: 'presence',
}

export const RULE_TYPES: Readonly<Record<Section, readonly RuleType[]>> = {
  record: ['create', 'write', 'read', 'delete', 'listen', 'notify'],
  event: ['publish', 'subscribe', 'listen'],
  rpc: ['provide', 'request'],
  presence: ['allow'],
}

/** Which action asks which rule. ERASE is a write (deepstream 7 let it through unchecked). */
const RULE_BY_ACTION: Readonly<Record<number, Readonly<Record<number, RuleType>>>> = {
  [TOPIC.RECORD]: {
    [RECORD_ACTION.SUBSCRIBE]: 'read',
    [RECORD_ACTION.SUBSCRIBEANDHEAD]: 'read',
    [RECORD_ACTION.SUBSCRIBEANDREAD]: 'read',
    [RECORD_ACTION.READ]: 'read',
    [RECORD_ACTION.HEAD]: 'read',
    [RECORD_ACTION.CREATE]: 'create',
    [RECORD_ACTION.UPDATE]: 'write',
    [RECORD_ACTION.PATCH]: 'write',
    [RECORD_ACTION.ERASE]: 'write',
    [RECORD_ACTION.DELETE]: 'delete',
    [RECORD_ACTION.LISTEN]: 'listen',
    [RECORD_ACTION.NOTIFY]: 'notify',
  },
  [TOPIC.EVENT]: {
    [EVENT_ACTION.EMIT]: 'publish',
    [EVENT_ACTION.SUBSCRIBE]: 'subscribe',
    [EVENT_ACTION.LISTEN]: 'listen',
  },
  [TOPIC.RPC]: {
    [RPC_ACTION.PROVIDE]: 'provide',
    [RPC_ACTION.REQUEST]: 'request',
  },
  [TOPIC.PRESENCE]: {
    [PRESENCE_ACTION.SUBSCRIBE]: 'allow',
    [PRESENCE_ACTION.SUBSCRIBE_ALL]: 'allow',
    [PRESENCE_ACTION.QUERY]: 'allow',
    [PRESENCE_ACTION.QUERY_ALL]: 'allow',
  },
}

/** The rule type an action needs, or undefined when the action is not permissioned. */
export function ruleTypeFor (topic: number, action: number): RuleType | undefined {
  return RULE_BY_ACTION[topic]?.[action]
}

/** Rule types whose rules may read `data` / `oldData`. */
export const HAS_DATA: ReadonlySet<RuleType> = new Set(['write', 'publish', 'subscribe', 'request'])
export const HAS_OLD_DATA: ReadonlySet<RuleType> = new Set(['read', 'write', 'delete'])
