// The edge rows docs/legacy-contract.md §4 cares about, written over generated prescriptions at fixed ids near the
// newest end of every type in every non-empty tenant, so the simulator's and the fast paths' tests
// find each of them on the first page of GET /v2/rezept.
import type { PrescriptionType } from './prescription-types.ts'
import { RECENT_REGION_MIN } from './prescription-rows-sql.ts'
import { edgeXml } from './xml-documents.ts'

export interface EdgeStatusRow {
  readonly rezeptStatus: string
  /** Defaults to rezeptStatus. */
  readonly abrechenStatus?: string
  /** status_abfrage_datum set (the delivery date + 1) or NULL; defaults to set. */
  readonly date?: boolean
  /** status_abfrage_zeit; defaults to '10:15:00'. */
  readonly time?: string | null
}

export interface EdgeCase {
  readonly name: string
  /** transfer_arz of the first daten row and, when given, of a second one with a higher id. */
  readonly daten: readonly (boolean | null)[]
  /** 0, 1 or 2 status rows, in id order. */
  readonly status: readonly EdgeStatusRow[]
  readonly reference?: 'null' | 'beyond-2^53' | 'int8-max'
  /** The XML with every character class of docs/legacy-contract.md §1, and an rz_liefer_id of 23 characters. */
  readonly allCharacters?: boolean
  /** Whether docs/legacy-contract.md §4 lists it as new. */
  readonly isNew: boolean
  /** Whether its daten row (docs/legacy-contract.md §4: false, lowest id) is the second one. */
  readonly datenIsSecond?: boolean
}

const OPEN: EdgeStatusRow = { rezeptStatus: 'VOR_PRUEFUNG' }

export const EDGE_CASES: readonly EdgeCase[] = Object.freeze([
  { name: 'two daten rows, both false', daten: [false, false], status: [OPEN], isNew: true },
  { name: 'two daten rows, the first true, the second false', daten: [true, false], status: [OPEN], isNew: true, datenIsSecond: true },
  { name: 'one daten row with transfer_arz NULL', daten: [null], status: [OPEN], isNew: false },
  { name: 'two daten rows, the first NULL, the second false', daten: [null, false], status: [OPEN], isNew: true, datenIsSecond: true },
  { name: 'no status row', daten: [false], status: [], isNew: true },
  { name: 'two status rows, neither ABGERECHNET: the lowest id wins', daten: [false],
    status: [{ rezeptStatus: 'FEHLER', abrechenStatus: 'HINWEIS' }, { rezeptStatus: 'GELESEN', time: '11:11:11' }], isNew: true },
  { name: 'two status rows, the second ABGERECHNET', daten: [false], status: [OPEN, { rezeptStatus: 'ABGERECHNET' }], isNew: false },
  { name: 'two status rows, the first ABGERECHNET', daten: [false], status: [{ rezeptStatus: 'ABGERECHNET' }, { rezeptStatus: 'GELESEN' }], isNew: false },
  { name: 'status_abfrage_datum NULL with a time', daten: [false], status: [{ rezeptStatus: 'VOR_ABRECHNUNG', date: false, time: '09:30:00' }], isNew: true },
  { name: 'status_abfrage_datum set, time NULL', daten: [false], status: [{ rezeptStatus: 'ABRECHENBAR', time: null }], isNew: true },
  { name: 'status time with centiseconds 13:45:10.25', daten: [false], status: [{ rezeptStatus: 'HINWEIS', time: '13:45:10.25' }], isNew: true },
  { name: 'status time with microseconds 08:00:00.123456', daten: [false], status: [{ rezeptStatus: 'FEHLER', time: '08:00:00.123456' }], isNew: true },
  { name: 'status time at midnight', daten: [false], status: [{ rezeptStatus: 'GELESEN', time: '00:00:00' }], isNew: true },
  { name: 'abrechen_status differs from rezept_status', daten: [false], status: [{ rezeptStatus: 'VERBESSERBAR', abrechenStatus: 'ABRECHENBAR' }], isNew: true },
  { name: 'reference number NULL', daten: [false], status: [OPEN], reference: 'null', isNew: true },
  { name: 'reference number 2^53 + 1', daten: [false], status: [OPEN], reference: 'beyond-2^53', isNew: true },
  { name: 'reference number at the int8 maximum', daten: [false], status: [OPEN], reference: 'int8-max', isNew: true },
  { name: 'XML with every escaped character class', daten: [false], status: [{ rezeptStatus: 'RUECKWEISUNG' }], allCharacters: true, isNew: true },
  { name: 'daten false but status ABGERECHNET', daten: [false], status: [{ rezeptStatus: 'ABGERECHNET' }], isNew: false },
] satisfies EdgeCase[])

// Every edge row sits inside the recent region (two ids apart, so bulk rows lie between them).
if (EDGE_CASES.length * 2 > RECENT_REGION_MIN) throw new Error('edge rows do not fit the recent region')

/** Edge rows need room below the newest id; a type with fewer rows gets none. */
export const EDGE_MIN_ROWS = RECENT_REGION_MIN

/** The main-table id of edge case `index` in a type with `count` rows. */
export function edgeRowId(count: number, index: number): number {
  return count - 1 - 2 * index
}

/** Ids of extra rows (second daten or status row): above the bulk's ids, which end at 2 × count. */
function extraRowId(count: number, index: number): number {
  return 2 * count + 1 + index
}

const EDGE_DELIVERY_ID = 'RZ<&>"\'+`ÄÖÜß-000000023'

const REFERENCE_VALUES: Readonly<Record<NonNullable<EdgeCase['reference']>, { number: string; erezept: string } | null>> = {
  null: null,
  'beyond-2^53': { number: '9007199254740993', erezept: '160.000.100.000.001.07' },
  'int8-max': { number: '9223372036854775807', erezept: '160.999.999.999.999.99' },
}

export interface EdgeStatement {
  readonly text: string
  readonly values: unknown[]
}

/** The statements that turn the generated rows at the edge ids into the edge cases. */
export function edgeStatements(type: PrescriptionType, count: number, seed: number): EdgeStatement[] {
  if (count < EDGE_MIN_ROWS) return []
  const main = type.table
  const daten = `${type.table}_daten`
  const status = `${type.table}_status`
  const id = type.idColumn
  const statements: EdgeStatement[] = []
  EDGE_CASES.forEach((edge, index) => {
    const g = edgeRowId(count, index)
    const extra = extraRowId(count, index)
    // Clear the bulk's optional second rows (ids count + g) so each case has exactly its own rows.
    statements.push({ text: `DELETE FROM ${daten} WHERE ${id}_daten = $1`, values: [count + g] })
    statements.push({ text: `DELETE FROM ${status} WHERE ${id}_status IN ($1, $2)`, values: [g, count + g] })
    if (edge.reference) {
      const value = REFERENCE_VALUES[edge.reference]
      const written = value === null ? null : type.referenceColumn === 'erezept_id' ? value.erezept : value.number
      statements.push({ text: `UPDATE ${main} SET ${type.referenceColumn} = $2 WHERE ${id} = $1`, values: [g, written] })
    }
    if (edge.allCharacters) {
      statements.push({ text: `UPDATE ${main} SET rz_liefer_id = $2 WHERE ${id} = $1`, values: [g, EDGE_DELIVERY_ID] })
      statements.push({ text: `UPDATE ${daten} SET xml_request = $2 WHERE ${id}_daten = $1`, values: [g, edgeXml(type.label)] })
    }
    statements.push({ text: `UPDATE ${daten} SET transfer_arz = $2 WHERE ${id}_daten = $1`, values: [g, edge.daten[0]] })
    if (edge.daten.length > 1) {
      statements.push({
        text: `INSERT INTO ${daten} (${id}_daten, ${id}, rezept_uuid, transfer_arz, xml_request)
          SELECT $1, ${id}, md5($3::text || ':${type.key}:edge:' || $4::int)::uuid::text, $2, xml_request
          FROM ${daten} WHERE ${id}_daten = $4::int`,
        values: [extra, edge.daten[1], String(seed), g],
      })
    }
    edge.status.forEach((row, position) => {
      statements.push(statusInsert(type, position === 0 ? g : extra, g, row))
    })
  })
  return statements
}

function statusInsert(type: PrescriptionType, statusId: number, g: number, row: EdgeStatusRow): EdgeStatement {
  const id = type.idColumn
  const checkLevel = type.key === 'erezept' ? ', rezept_check_level' : ''
  const checkLevelValue = type.key === 'erezept' ? ', 2' : ''
  return {
    text: `INSERT INTO ${type.table}_status (${id}_status, ${id}, ${type.referenceColumn}, rezept_status, abrechen_status,
        rezept_check, rz_abfrage_id, status_abfrage_datum, status_abfrage_zeit${checkLevel})
      SELECT $1, ${id}, ${type.referenceColumn}, $3, $4, false, 'ABF-EDGE',
        CASE WHEN $5::boolean THEN rz_liefer_datum + 1 END, $6::time${checkLevelValue}
      FROM ${type.table} WHERE ${id} = $2`,
    values: [statusId, g, row.rezeptStatus, row.abrechenStatus ?? row.rezeptStatus, row.date ?? true,
      row.time === undefined ? '10:15:00' : row.time],
  }
}
