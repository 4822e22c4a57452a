// Reads the "new" prescriptions of one type as the legacy's EF queries do (docs/legacy-contract.md §4): a page query with xml_request, then a COUNT.
import type pg from 'pg'
import { PRESCRIPTION_TABLES, type PrescriptionTable } from './prescription-tables.ts'

export interface NewPrescriptionRow {
  id: number
  rz_liefer_id: string
  /** muster16_id / transaktions_nummer as bigint text, or erezept_id. */
  number_value: string | null
  daten_id: number
  rezept_uuid: string
  xml_request: string
  rezept_status: string | null
  abrechen_status: string | null
  status_abfrage_datum: string | null
  status_abfrage_zeit: string | null
}

// "New": a daten row with transfer_arz = false (NULL does not count), no ABGERECHNET status row.
function newFilter(t: PrescriptionTable): string {
  return `EXISTS (SELECT 1 FROM ${t.daten} d0 WHERE d0.${t.mainId} = m.${t.mainId} AND d0.transfer_arz = false)
   AND NOT EXISTS (SELECT 1 FROM ${t.status} s0 WHERE s0.${t.mainId} = m.${t.mainId} AND s0.rezept_status = 'ABGERECHNET')`
}

function pageSql(t: PrescriptionTable): string {
  return `SELECT m.${t.mainId} AS id, m.rz_liefer_id, m.${t.numberColumn}::text AS number_value,
       d.${t.datenId} AS daten_id, d.rezept_uuid, d.xml_request,
       s.rezept_status, s.abrechen_status, s.status_abfrage_datum, s.status_abfrage_zeit
  FROM ${t.main} m
  JOIN LATERAL (SELECT dd.${t.datenId}, dd.rezept_uuid, dd.xml_request FROM ${t.daten} dd
                 WHERE dd.${t.mainId} = m.${t.mainId} AND dd.transfer_arz = false
                 ORDER BY dd.${t.datenId} LIMIT 1) d ON true
  LEFT JOIN LATERAL (SELECT ss.rezept_status, ss.abrechen_status, ss.status_abfrage_datum, ss.status_abfrage_zeit
                       FROM ${t.status} ss WHERE ss.${t.mainId} = m.${t.mainId}
                      ORDER BY ss.${t.statusId} LIMIT 1) s ON true
 WHERE NOT EXISTS (SELECT 1 FROM ${t.status} s0 WHERE s0.${t.mainId} = m.${t.mainId} AND s0.rezept_status = 'ABGERECHNET')
 ORDER BY m.${t.mainId} DESC
 OFFSET $1 LIMIT $2`
}

function countSql(t: PrescriptionTable): string {
  return `SELECT count(*)::int AS n FROM ${t.main} m WHERE ${newFilter(t)}`
}

const PAGE_SQL = new Map(PRESCRIPTION_TABLES.map((t) => [t.name, pageSql(t)]))
const COUNT_SQL = new Map(PRESCRIPTION_TABLES.map((t) => [t.name, countSql(t)]))

/** One type's page; a negative offset or limit fails in PostgreSQL, as it does for the legacy. */
export async function newPrescriptionsPage(db: pg.Pool, t: PrescriptionTable, offset: number, limit: number): Promise<NewPrescriptionRow[]> {
  const result = await db.query<NewPrescriptionRow>(PAGE_SQL.get(t.name)!, [offset, limit])
  return result.rows
}

export async function newPrescriptionsCount(db: pg.Pool, t: PrescriptionTable): Promise<number> {
  const result = await db.query<{ n: number }>(COUNT_SQL.get(t.name)!)
  return result.rows[0]!.n
}
