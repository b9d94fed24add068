/**
 * Scenarios of the differential suite where riptide knowingly differs from deepstream 7.0.2, each
 * with the reason. The README's "What differs" section lists the same names (a test checks it).
 */
export const KNOWN_DIFFERENCES: Readonly<Record<string, string>> = {
  'record notify': 'with storage none, deepstream drops the only copy of the record and sends DELETED; riptide re-reads and pushes the cached copy as an UPDATE',
}
