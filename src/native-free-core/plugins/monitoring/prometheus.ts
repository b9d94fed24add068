/** The merged stats of every worker in Prometheus' text exposition format. */
import { topicName } from '../../protocol/constants.js'
import * as constants from '../../protocol/constants.js'
import { percentiles, type MergedStats } from './stats.js'

const ACTION_TABLES: Record<string, Record<string, number>> = {
  CONNECTION: constants.CONNECTION_ACTION, AUTH: constants.AUTH_ACTION, EVENT: constants.EVENT_ACTION, RECORD: constants.RECORD_ACTION,
  RPC: constants.RPC_ACTION, PRESENCE: constants.PRESENCE_ACTION, PARSER: constants.PARSER_ACTION,
}

function label (value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

/** `5/18` -> topic="RECORD",action="UPDATE" */
function messageLabels (key: string): string {
  const [topic, action] = key.split('/').map(Number)
  const name = topicName(topic)
  const table = ACTION_TABLES[name] ?? {}
  const actionName = Object.entries(table).find(([, value]) => value === action)?.[0] ?? String(action)
  return `topic="${label(name)}",action="${label(actionName)}"`
}

export function prometheus (stats: MergedStats): string {
  const lines: string[] = []
  const family = (name: string, type: string, help: string): void => { lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`) }
  family('riptide_messages_received_total', 'counter', 'Messages received from clients, by topic and action.')
  for (const [key, n] of Object.entries(stats.received)) lines.push(`riptide_messages_received_total{${messageLabels(key)}} ${n}`)
  family('riptide_messages_sent_total', 'counter', 'Messages sent to clients one by one (fan-out excluded), by topic and action.')
  for (const [key, n] of Object.entries(stats.sent)) lines.push(`riptide_messages_sent_total{${messageLabels(key)}} ${n}`)
  family('riptide_broadcasts_total', 'counter', 'Messages fanned out to subscribers.')
  lines.push(`riptide_broadcasts_total ${stats.broadcasts}`)
  family('riptide_deliveries_total', 'counter', 'Frames handed to subscribers by fan-out.')
  lines.push(`riptide_deliveries_total ${stats.deliveries}`)
  family('riptide_logins_total', 'counter', 'Login attempts, by endpoint and result.')
  for (const [endpoint, { allowed, denied }] of Object.entries(stats.logins)) {
    lines.push(`riptide_logins_total{endpoint="${label(endpoint)}",result="allowed"} ${allowed}`, `riptide_logins_total{endpoint="${label(endpoint)}",result="denied"} ${denied}`)
  }
  family('riptide_errors_total', 'counter', 'Errors and refused input, by event.')
  for (const [event, n] of Object.entries(stats.errors)) lines.push(`riptide_errors_total{event="${label(event)}"} ${n}`)
  family('riptide_connections', 'gauge', 'Open WebSocket connections, by worker.')
  stats.connections.forEach((n, worker) => lines.push(`riptide_connections{worker="${worker}"} ${n}`))
  for (const [name, source, help] of [
    ['riptide_handling_microseconds', stats.handling, 'Server-side handling time of a message, from its arrival to the end of its synchronous handling, by topic.'],
    ['riptide_delivery_microseconds', stats.delivery, 'Publish-to-delivery delay, from a publish\'s arrival to its hand-over to subscribers\' sockets on any worker, by topic.'],
  ] as const) {
    family(name, 'summary', help)
    for (const [topic, h] of Object.entries(source)) {
      const p = percentiles(h)
      for (const [quantile, value] of [['0.5', p.p50], ['0.9', p.p90], ['0.99', p.p99], ['0.999', p.p999], ['1', p.max]] as const) {
        lines.push(`${name}{topic="${label(topic)}",quantile="${quantile}"} ${value}`)
      }
      lines.push(`${name}_count{topic="${label(topic)}"} ${p.count}`)
    }
  }
  return `${lines.join('\n')}\n`
}
