// The additive indexes the fast path's queries are built for (API.md §11): one list, named with a common prefix, created CONCURRENTLY.
import { PRESCRIPTION_TYPES } from '../queries/prescription-types.ts'

export const INDEX_PREFIX = 'fastpath_'

export interface FastPathIndex {
  readonly name: string
  readonly table: string
  /** CREATE INDEX CONCURRENTLY IF NOT EXISTS ... */
  readonly createSql: string
  /** Which query it serves (docs/fast-path.md explains with figures). */
  readonly serves: string
}

function indexesOf(t: (typeof PRESCRIPTION_TYPES)[number]): FastPathIndex[] {
  const daten = `${INDEX_PREFIX}${t.key}_daten_new`
  const status = `${INDEX_PREFIX}${t.key}_status_first`
  return [
    {
      name: daten, table: t.daten,
      // Partial: only the few percent of daten rows still to be collected, so counting "new" reads a small index.
      createSql: `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${daten} ON ${t.daten} (${t.mainId}, ${t.datenId}) WHERE transfer_arz = false`,
      serves: `count and page of new ${t.name}: the EXISTS(transfer_arz = false) test and the lowest-id daten row`,
    },
    {
      name: status, table: t.status,
      // INCLUDE makes both uses index-only: the NOT EXISTS(ABGERECHNET) probe reads rezept_status, the
      // lowest-id status row reads the four columns the answer shows.
      createSql: `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${status} ON ${t.status} (${t.mainId}, ${t.statusId}) ` +
        'INCLUDE (rezept_status, abrechen_status, status_abfrage_datum, status_abfrage_zeit)',
      serves: `count and page of new ${t.name}: the NOT EXISTS(ABGERECHNET) probe and the lowest-id status row, both index-only`,
    },
  ]
}

export const FAST_PATH_INDEXES: readonly FastPathIndex[] = Object.freeze(PRESCRIPTION_TYPES.flatMap(indexesOf))
