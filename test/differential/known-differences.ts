/**
 * Scenarios of the differential suite where riptide knowingly differs from deepstream 7.0.2, each
 * with the reason. The README's "What differs" section lists the same names (a test checks it).
 */
export const KNOWN_DIFFERENCES: Readonly<Record<string, string>> = {
  'write after a refused future version': 'after refusing a write whose version skips ahead (INVALID_VERSION), deepstream refuses the next valid version too, with VERSION_EXISTS; riptide accepts it',
  'presence all-user acks echo the correlation id': 'riptide echoes the correlation id of SUBSCRIBE_ALL and UNSUBSCRIBE_ALL in their acks, as riptide/client matches acks by it; deepstream leaves it out (its stock client sends none)',
  'record path __proto__': 'riptide refuses record paths through __proto__, constructor or prototype with RECORD_UPDATE_ERROR; deepstream writes them',
  'corrupt frame after login': 'riptide answers a frame it cannot decode with PARSER/MESSAGE_PARSE_ERROR and the reason; deepstream answers PARSER/UNKNOWN_TOPIC',
  'json acks carry isAck': 'riptide\'s ws-json acks carry isAck: true, as its protobuf acks do; deepstream\'s ws-json endpoint drops the flag',
  'unknown actions are answered': 'riptide answers an action it does not know with the topic\'s INVALID_MESSAGE_DATA and the reason; deepstream sends nothing',
  'hot path writes': 'a write to a storageHotPathPrefixes record: riptide acks it with isWriteAck (deepstream leaves the flag out, and the stock client\'s setDataWithAck then never settles) and sends subscribers an UPDATE at version 0 (deepstream forwards the writer\'s message as it came, version -1 and correlation id included)',
  'record notify': 'with storage none, deepstream drops the only copy of the record and sends DELETED; riptide re-reads and pushes the cached copy as an UPDATE',
}
