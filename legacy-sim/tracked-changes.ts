// The legacy's writes as EF Core runs them: its lookups (observed-sql.md shapes), identity resolution, and SaveChanges writing changed columns only.
import type pg from 'pg'
import { PRESCRIPTION_TABLES, type PrescriptionTable } from './prescription-tables.ts'

// Each status table's columns in EF's order (key, then the properties alphabetically), as the legacy selects them.
const STATUS_COLUMNS: Readonly<Record<PrescriptionTable['name'], readonly string[]>> = {
  'eMuster16': ['id_senderezepte_emuster16_status', 'abrechen_status', 'id_senderezepte_emuster16', 'muster16_id', 'rezept_check',
    'rezept_status', 'rz_abfrage_id', 'status_abfrage_datum', 'status_abfrage_zeit'],
  'P-Rezept': ['id_senderezepte_prezept_status', 'abrechen_status', 'id_senderezepte_prezept', 'rezept_check', 'rezept_status',
    'rz_abfrage_id', 'status_abfrage_datum', 'status_abfrage_zeit', 'transaktions_nummer'],
  'E-Rezept': ['id_senderezepte_erezept_status', 'abrechen_status', 'erezept_id', 'id_senderezepte_erezept', 'rezept_check',
    'rezept_check_level', 'rezept_status', 'rz_abfrage_id', 'status_abfrage_datum', 'status_abfrage_zeit'],
}

interface LegacyStatements {
  /** PATCH status: the daten row of a uuid, `LIMIT 1` without ORDER BY. */
  datenByUuid: string
  /** mark-as-read: the daten rows of the uuids still not transferred. */
  untransferredDaten: string
  /** set-abgerechnet: the prescriptions of the uuids. */
  prescriptionsOfUuids: string
  /** All three writes: a prescription's status row, `LIMIT 1` WITHOUT ORDER BY: the plan decides which (docs/legacy-contract.md §7). */
  firstStatus: string
  /** The same for a daten row without a prescription: EF writes the null comparison as IS NULL. */
  firstStatusOfNoPrescription: string
}

function statementsFor(t: PrescriptionTable): LegacyStatements {
  const datenColumns = [t.datenId, t.mainId, 'rezept_uuid', 'transfer_arz', 'xml_request'].map((c) => `e.${c}`).join(', ')
  return {
    datenByUuid: `SELECT ${datenColumns}\n    FROM ${t.daten} AS e\n    WHERE e.rezept_uuid = $1\n    LIMIT 1`,
    untransferredDaten: `SELECT ${datenColumns}\n    FROM ${t.daten} AS e\n    WHERE e.rezept_uuid <> '' AND e.rezept_uuid = ANY ($1) AND e.transfer_arz = FALSE`,
    prescriptionsOfUuids: `SELECT DISTINCT e.${t.mainId}\n    FROM ${t.daten} AS e\n    WHERE e.rezept_uuid <> '' AND e.rezept_uuid = ANY ($1) AND e.${t.mainId} IS NOT NULL`,
    firstStatus: `SELECT ${STATUS_COLUMNS[t.name].map((c) => `e.${c}`).join(', ')}\n    FROM ${t.status} AS e\n    WHERE e.${t.mainId} = $1\n    LIMIT 1`,
    firstStatusOfNoPrescription: `SELECT ${STATUS_COLUMNS[t.name].map((c) => `e.${c}`).join(', ')}\n    FROM ${t.status} AS e\n    WHERE e.${t.mainId} IS NULL\n    LIMIT 1`,
  }
}

const STATEMENTS = new Map(PRESCRIPTION_TABLES.map((t) => [t.name, statementsFor(t)]))

export interface TrackedDaten {
  readonly table: PrescriptionTable
  readonly id: number
  readonly mainId: number | null
  readonly originalTransferArz: boolean | null
  transferArz: boolean | null
}

export interface TrackedStatus {
  readonly table: PrescriptionTable
  /** null while Added: the sequence gives it at SaveChanges. */
  readonly id: number | null
  readonly mainId: number | null
  readonly original: { rezeptStatus: string | null; statusAbfrageDatum: string | null } | null
  rezeptStatus: string | null
  statusAbfrageDatum: string | null
}

/**
 * One request's DbContext: rows looked up are tracked, and a second lookup of the same row returns the
 * tracked one with its pending values (EF's identity resolution), though the query still runs.
 */
export class ChangeTracker {
  readonly #daten = new Map<string, TrackedDaten>()
  readonly #status = new Map<string, TrackedStatus>()
  readonly #added: TrackedStatus[] = []
  readonly #client: pg.PoolClient

  constructor(client: pg.PoolClient) {
    this.#client = client
  }

  #trackDaten(table: PrescriptionTable, row: Record<string, unknown>): TrackedDaten {
    const id = row[table.datenId] as number
    const key = `${table.name}:${id}`
    let tracked = this.#daten.get(key)
    if (tracked === undefined) {
      const transferArz = row.transfer_arz as boolean | null
      tracked = { table, id, mainId: row[table.mainId] as number | null, originalTransferArz: transferArz, transferArz }
      this.#daten.set(key, tracked)
    }
    return tracked
  }

  async datenByUuid(table: PrescriptionTable, uuid: string): Promise<TrackedDaten | undefined> {
    const result = await this.#client.query(STATEMENTS.get(table.name)!.datenByUuid, [uuid])
    return result.rows[0] === undefined ? undefined : this.#trackDaten(table, result.rows[0])
  }

  /** The daten rows of `uuids` still false, in the order PostgreSQL returns them. */
  async untransferredDaten(table: PrescriptionTable, uuids: readonly string[]): Promise<TrackedDaten[]> {
    const result = await this.#client.query(STATEMENTS.get(table.name)!.untransferredDaten, [uuids])
    return result.rows.map((row) => this.#trackDaten(table, row))
  }

  /** The distinct prescription ids of `uuids`, in the order PostgreSQL returns them (untracked: a projection). */
  async prescriptionsOfUuids(table: PrescriptionTable, uuids: readonly string[]): Promise<number[]> {
    const result = await this.#client.query(STATEMENTS.get(table.name)!.prescriptionsOfUuids, [uuids])
    return result.rows.map((row) => row[table.mainId] as number)
  }

  /** The first status row PostgreSQL returns for the prescription (no ORDER BY), or undefined. */
  async firstStatus(table: PrescriptionTable, mainId: number | null): Promise<TrackedStatus | undefined> {
    const statements = STATEMENTS.get(table.name)!
    const result = mainId === null
      ? await this.#client.query(statements.firstStatusOfNoPrescription)
      : await this.#client.query(statements.firstStatus, [mainId])
    const row = result.rows[0]
    if (row === undefined) return undefined
    const id = row[table.statusId] as number
    const key = `${table.name}:${id}`
    let tracked = this.#status.get(key)
    if (tracked === undefined) {
      const original = { rezeptStatus: row.rezept_status as string | null, statusAbfrageDatum: row.status_abfrage_datum as string | null }
      tracked = { table, id, mainId, original, ...original }
      this.#status.set(key, tracked)
    }
    return tracked
  }

  /** The status row the legacy's writes set: the found one gets status and today; none found, a new one is added. */
  async setStatus(table: PrescriptionTable, mainId: number | null, status: string, today: string): Promise<void> {
    const found = await this.firstStatus(table, mainId)
    if (found !== undefined) {
      found.rezeptStatus = status
      found.statusAbfrageDatum = today
      return
    }
    // A second update of the same prescription queries again and, not seeing this pending row, adds another.
    this.#added.push({ table, id: null, mainId, original: null, rezeptStatus: status, statusAbfrageDatum: today })
  }

  /**
   * SaveChanges' statements, in EF's command order as far as observed (daten before status: by table
   * name), modified rows before added ones, modified rows by key; the order only decides where new row
   * versions land. Only columns whose value differs from the one read are written (a status
   * already GELESEN with today's date is not written again).
   */
  pendingStatements(): Array<{ table: string; text: string; values: unknown[] }> {
    const commands: Array<{ table: string; order: number; key: number; text: string; values: unknown[] }> = []
    for (const d of this.#daten.values()) {
      if (d.transferArz === d.originalTransferArz) continue
      commands.push({ table: d.table.daten, order: 0, key: d.id, text: `UPDATE ${d.table.daten} SET transfer_arz = $1\n    WHERE ${d.table.datenId} = $2`, values: [d.transferArz, d.id] })
    }
    for (const s of this.#status.values()) {
      const columns = changedStatusColumns(s)
      if (columns.length === 0) continue
      const set = columns.map(([column], i) => `${column} = $${i + 1}`).join(', ')
      commands.push({ table: s.table.status, order: 0, key: s.id!, text: `UPDATE ${s.table.status} SET ${set}\n    WHERE ${s.table.statusId} = $${columns.length + 1}`, values: [...columns.map(([, v]) => v), s.id] })
    }
    this.#added.forEach((s, i) => {
      commands.push({ table: s.table.status, order: 1, key: i, text: `INSERT INTO ${s.table.status} (${s.table.mainId}, rezept_status, status_abfrage_datum)\n    VALUES ($1, $2, $3)`, values: [s.mainId, s.rezeptStatus, s.statusAbfrageDatum] })
    })
    commands.sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : a.order - b.order || a.key - b.key))
    return commands.map(({ table, text, values }) => ({ table, text, values }))
  }
}

function changedStatusColumns(s: TrackedStatus): Array<[string, string | null]> {
  if (s.original === null) return []
  const columns: Array<[string, string | null]> = []
  if (s.rezeptStatus !== s.original.rezeptStatus) columns.push(['rezept_status', s.rezeptStatus])
  if (s.statusAbfrageDatum !== s.original.statusAbfrageDatum) columns.push(['status_abfrage_datum', s.statusAbfrageDatum])
  return columns
}
