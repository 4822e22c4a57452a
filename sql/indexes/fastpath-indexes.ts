// The additive indexes the fast path's queries are built for (docs/legacy-contract.md §11): one list, named with a common prefix, created CONCURRENTLY.
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

/**
 * The condition every fastpath_ index is partial on, and that only the fast path's queries state.
 * PostgreSQL uses a partial index only for a query whose WHERE implies the index's predicate; no
 * statement of the legacy names `<main id> + 0`, so none can prove it, so none can use the index,
 * and its plans (which decide the rows of its `LIMIT 1` without ORDER BY, and its order) stay as
 * they were without us. `x + 0 IS NOT NULL` holds exactly when `x IS NOT NULL`: for a query that
 * states it beside `x = <id>` it changes nothing. The keys stay plain columns so the scans stay
 * index-only (PostgreSQL plans no index-only scan over an expression key).
 */
export function fastPathMarker(column: string): string {
  return `(${column} + 0) IS NOT NULL`
}

// Named _v2 since 2026-12-03: the v1 shapes (the same keys, without the marker) were used by the legacy's
// own statements (issue 26). `apply` drops every fastpath_ index this list does not name.
function indexesOf(t: (typeof PRESCRIPTION_TYPES)[number]): FastPathIndex[] {
  const daten = `${INDEX_PREFIX}${t.key}_daten_new_v2`
  const status = `${INDEX_PREFIX}${t.key}_status_first_v2`
  return [
    {
      name: daten, table: t.daten,
      // Only the few percent of daten rows still to be collected, so counting "new" reads a small index.
      createSql: `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${daten} ON ${t.daten} (${t.mainId}, ${t.datenId}) ` +
        `WHERE transfer_arz = false AND ${fastPathMarker(t.mainId)}`,
      serves: `count and page of new ${t.name}: the EXISTS(transfer_arz = false) test and the lowest-id daten row`,
    },
    {
      name: status, table: t.status,
      // INCLUDE makes both uses index-only: the NOT EXISTS(ABGERECHNET) probe reads rezept_status, the
      // lowest-id status row reads the four columns the answer shows.
      createSql: `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${status} ON ${t.status} (${t.mainId}, ${t.statusId}) ` +
        `INCLUDE (rezept_status, abrechen_status, status_abfrage_datum, status_abfrage_zeit) WHERE ${fastPathMarker(t.mainId)}`,
      serves: `count and page of new ${t.name}: the NOT EXISTS(ABGERECHNET) probe and the lowest-id status row, both index-only`,
    },
  ]
}

export const FAST_PATH_INDEXES: readonly FastPathIndex[] = Object.freeze(PRESCRIPTION_TYPES.flatMap(indexesOf))
