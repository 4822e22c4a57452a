// The SQL of docs/legacy-contract.md §4's "new prescriptions" per type: one page (only the columns the answer needs) and the count.
import { fastPathMarker } from '../indexes/fastpath-indexes.ts'
import type { PrescriptionType } from './prescription-types.ts'

/**
 * Columns of a page row, in this order, all as PostgreSQL text (int8 never passes a JS number):
 * id, rz_liefer_id (NULL unless eMuster16), number (muster16_id / transaktions_nummer / erezept_id),
 * daten id, rezept_uuid, xml_request, abrechen_status, rezept_status, status_abfrage_datum, status_abfrage_zeit.
 */
export const PAGE_COLUMNS = 10

export interface NewPrescriptionStatements {
  readonly pageName: string
  /** $1 = OFFSET, $2 = LIMIT; ordered by the main id descending. */
  readonly pageSql: string
  readonly windowName: string
  /**
   * pageSql without the XML: `xml_request` is NULL (the column keeps its place). For PATCH
   * /v2/rezept/statusuuid, whose answer has no XML: a 1000-row window of 1-8 KB texts is megabytes
   * per type that need not leave PostgreSQL. The same FROM, WHERE, ORDER and LIMIT: the same rows.
   */
  readonly windowSql: string
  readonly countName: string
  /** One row: the count as text, then the snapshot it was counted under (txid_snapshot text). */
  readonly countSql: string
}

// "New" (docs/legacy-contract.md §4): a daten row with transfer_arz = false (NULL is not false) and no status row
// ABGERECHNET. The candidates are read from the daten side: the daten rows still to be collected are
// a few percent, and fastpath_<type>_daten_new_v2 (sql/indexes/) holds exactly them, in main-id order.
// Reading main ids from daten instead of EXISTS over the main table is the same set: daten's main id
// is a foreign key to the main table, and a NULL one belongs to no prescription.
// `fastPathMarker` states `(main id + 0) IS NOT NULL`, true of every row these queries read anyway: the
// fastpath_ indexes are partial on it so that only these queries can use them (sql/indexes/).
function candidatesSql(t: PrescriptionType): string {
  return `SELECT DISTINCT dn.${t.mainId} AS id
          FROM ${t.daten} dn
         WHERE dn.transfer_arz = false AND ${fastPathMarker(`dn.${t.mainId}`)}
         ORDER BY dn.${t.mainId} DESC`
}

function notBilled(t: PrescriptionType, id: string): string {
  return `NOT EXISTS (SELECT 1 FROM ${t.status} ab WHERE ab.${t.mainId} = ${id} AND ab.rezept_status = 'ABGERECHNET' AND ${fastPathMarker(`ab.${t.mainId}`)})`
}

// The page is cut from the ids alone (OFFSET/LIMIT per type, id DESC) before anything wide is read,
// so a deep page walks a small index, and only the page's rows touch the main, daten and status tables.
// Its daten row: the lowest-id daten row with transfer_arz = false. Its status row: the lowest-id
// status row of any value. LATERAL ... LIMIT 1 keeps both to one row per prescription.
function pageSql(t: PrescriptionType, withXml = true): string {
  return `SELECT m.${t.mainId}, ${t.withLieferId ? 'm.rz_liefer_id' : 'NULL'}, m.${t.numberColumn},
       d.${t.datenId}, d.rezept_uuid, ${withXml ? 'd.xml_request' : 'NULL'},
       s.abrechen_status, s.rezept_status, s.status_abfrage_datum, s.status_abfrage_zeit
  FROM (SELECT c.id
          FROM (${candidatesSql(t)}) c
         WHERE ${notBilled(t, 'c.id')}
         ORDER BY c.id DESC
        OFFSET $1 LIMIT $2) p
  JOIN ${t.main} m ON m.${t.mainId} = p.id
 CROSS JOIN LATERAL (
       SELECT dn.${t.datenId}, dn.rezept_uuid${withXml ? ', dn.xml_request' : ''}
         FROM ${t.daten} dn
        WHERE dn.${t.mainId} = p.id AND dn.transfer_arz = false AND ${fastPathMarker(`dn.${t.mainId}`)}
        ORDER BY dn.${t.datenId}
        LIMIT 1) d
  LEFT JOIN LATERAL (
       SELECT st.abrechen_status, st.rezept_status, st.status_abfrage_datum, st.status_abfrage_zeit
         FROM ${t.status} st
        WHERE st.${t.mainId} = p.id AND ${fastPathMarker(`st.${t.mainId}`)}
        ORDER BY st.${t.statusId}
        LIMIT 1) s ON true
 ORDER BY p.id DESC`
}

// The count comes with the snapshot it was taken under: txid_current_snapshot() is the statement's own
// snapshot, so the pair is exact, and a later equal snapshot proves no commit happened in between.
function countSql(t: PrescriptionType): string {
  return `SELECT count(*), txid_current_snapshot()::text
  FROM (${candidatesSql(t)}) c
 WHERE ${notBilled(t, 'c.id')}`
}

export function newPrescriptionStatements(t: PrescriptionType): NewPrescriptionStatements {
  return Object.freeze({
    pageName: `fastpath_new_${t.key}_page_v2`,
    pageSql: pageSql(t),
    windowName: `fastpath_new_${t.key}_window_v1`,
    windowSql: pageSql(t, false),
    countName: `fastpath_new_${t.key}_count_v4`,
    countSql: countSql(t),
  })
}

/** The current snapshot as text (xmin:xmax:xip,...), to tell whether anything committed since a count. */
export const SNAPSHOT_STATEMENT = Object.freeze({ name: 'fastpath_snapshot_v2', sql: 'SELECT txid_current_snapshot()::text' })
