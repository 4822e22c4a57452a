// The SQL of API.md §4's "new prescriptions" per type: one page (only the columns the answer needs) and the count.
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
  readonly countName: string
  /** One row, one column: the count as text. */
  readonly countSql: string
}

// "New" (API.md §4): a daten row with transfer_arz = false (NULL is not false) and no status row
// ABGERECHNET. Its daten row: the lowest-id daten row with transfer_arz = false. Its status row: the
// lowest-id status row of any value. LATERAL ... LIMIT 1 keeps both to one row per prescription.
function pageSql(t: PrescriptionType): string {
  return `SELECT m.${t.mainId}, ${t.withLieferId ? 'm.rz_liefer_id' : 'NULL'}, m.${t.numberColumn},
       d.${t.datenId}, d.rezept_uuid, d.xml_request,
       s.abrechen_status, s.rezept_status, s.status_abfrage_datum, s.status_abfrage_zeit
  FROM ${t.main} m
 CROSS JOIN LATERAL (
       SELECT dn.${t.datenId}, dn.rezept_uuid, dn.xml_request
         FROM ${t.daten} dn
        WHERE dn.${t.mainId} = m.${t.mainId} AND dn.transfer_arz = false
        ORDER BY dn.${t.datenId}
        LIMIT 1) d
  LEFT JOIN LATERAL (
       SELECT st.abrechen_status, st.rezept_status, st.status_abfrage_datum, st.status_abfrage_zeit
         FROM ${t.status} st
        WHERE st.${t.mainId} = m.${t.mainId}
        ORDER BY st.${t.statusId}
        LIMIT 1) s ON true
 WHERE NOT EXISTS (SELECT 1 FROM ${t.status} ab
                    WHERE ab.${t.mainId} = m.${t.mainId} AND ab.rezept_status = 'ABGERECHNET')
 ORDER BY m.${t.mainId} DESC
OFFSET $1 LIMIT $2`
}

function countSql(t: PrescriptionType): string {
  return `SELECT count(*)
  FROM ${t.main} m
 WHERE EXISTS (SELECT 1 FROM ${t.daten} dn
                WHERE dn.${t.mainId} = m.${t.mainId} AND dn.transfer_arz = false)
   AND NOT EXISTS (SELECT 1 FROM ${t.status} ab
                    WHERE ab.${t.mainId} = m.${t.mainId} AND ab.rezept_status = 'ABGERECHNET')`
}

export function newPrescriptionStatements(t: PrescriptionType): NewPrescriptionStatements {
  return Object.freeze({
    pageName: `fastpath_new_${t.key}_page_v1`,
    pageSql: pageSql(t),
    countName: `fastpath_new_${t.key}_count_v1`,
    countSql: countSql(t),
  })
}
