// PATCH /v2/rezept/status (API.md §7): one transaction, per-update lookups (N+1), per-item errors, HTTP 200 even on failure.
import type pg from 'pg'
import { sendJson, sendText, sendValidationProblem } from './http-responses.ts'
import { conversionError, isObject, property, readJsonBody } from './json-request-body.ts'
import { jsonString, jsonUtcNow } from './json-text.ts'
import { PRESCRIPTION_TABLES, type PrescriptionTable } from './prescription-tables.ts'
import type { RouteRequest } from './request-context.ts'
import { serverToday } from './server-date.ts'

const MAX_BULK_SIZE = 1000
const TABLE_BY_LOWER_TYPE = new Map(PRESCRIPTION_TABLES.map((t) => [t.name.toLowerCase(), t]))
// What EF Core's DbUpdateException says when SaveChanges fails; Npgsql errors from queries read "<sqlstate>: <text>".
const SAVE_FAILED = 'An error occurred while saving the entity changes. See the inner exception for details.'

interface StatusUpdate { rezeptUuid: string; type: string; transferArz: boolean | null; status: string | null }

type PendingChange =
  | { kind: 'transfer'; table: PrescriptionTable; datenId: number; value: boolean }
  | { kind: 'status-update'; table: PrescriptionTable; statusId: number; status: string; today: string }
  | { kind: 'status-insert'; table: PrescriptionTable; mainId: number | null; status: string; today: string }

/** The body bound to the DTO, or the validation errors MVC would report. */
function bindUpdates(body: unknown): { updates: StatusUpdate[] } | { errors: Array<[string, string]> } {
  if (!isObject(body)) return { errors: [conversionError('$', 'ArzTi3Server.Domain.DTOs.V2.BulkUpdateRequest'), ['request', 'The request field is required.']] }
  const list = property(body, 'updates')
  if (list === undefined) return { updates: [] }
  if (list === null) return { errors: [['Updates', 'The Updates field is required.']] }
  if (!Array.isArray(list)) return { errors: [conversionError('$.updates', 'System.Collections.Generic.List`1[ArzTi3Server.Domain.DTOs.V2.PrescriptionUpdateDto]'), ['request', 'The request field is required.']] }
  const errors: Array<[string, string]> = []
  const updates: StatusUpdate[] = []
  list.forEach((item: unknown, i) => {
    if (!isObject(item)) {
      errors.push(conversionError(`$.updates[${i}]`, 'ArzTi3Server.Domain.DTOs.V2.PrescriptionUpdateDto'))
      return
    }
    const uuid = property(item, 'rezeptUuid')
    const type = property(item, 'type')
    const transferArz = property(item, 'transferArz') ?? null
    const status = property(item, 'status') ?? null
    if (uuid !== undefined && uuid !== null && typeof uuid !== 'string') errors.push(conversionError(`$.updates[${i}].rezeptUuid`, 'System.String'))
    if (type !== undefined && type !== null && typeof type !== 'string') errors.push(conversionError(`$.updates[${i}].type`, 'System.String'))
    if (transferArz !== null && typeof transferArz !== 'boolean') errors.push(conversionError(`$.updates[${i}].transferArz`, 'System.Nullable`1[System.Boolean]'))
    if (status !== null && typeof status !== 'string') errors.push(conversionError(`$.updates[${i}].status`, 'System.String'))
    // Non-nullable strings are implicitly [Required]: null, missing and "" all fail.
    if (typeof uuid !== 'string' || uuid === '') errors.push([`Updates[${i}].RezeptUuid`, 'The RezeptUuid field is required.'])
    if (typeof type !== 'string' || type === '') errors.push([`Updates[${i}].Type`, 'The Type field is required.'])
    updates.push({ rezeptUuid: uuid as string, type: type as string, transferArz: transferArz as boolean | null, status: status as string | null })
  })
  return errors.length > 0 ? { errors } : { updates }
}

function pgFailureText(error: unknown): string {
  const e = error as { code?: string; message?: string }
  return e.code ? `${e.code}: ${e.message}` : String(e.message ?? error)
}

async function saveChanges(client: pg.PoolClient, changes: readonly PendingChange[]): Promise<void> {
  for (const c of changes) {
    const t = c.table
    if (c.kind === 'transfer') {
      await client.query(`UPDATE ${t.daten} SET transfer_arz = $2 WHERE ${t.datenId} = $1`, [c.datenId, c.value])
    } else if (c.kind === 'status-update') {
      await client.query(`UPDATE ${t.status} SET rezept_status = $2, status_abfrage_datum = $3 WHERE ${t.statusId} = $1`, [c.statusId, c.status, c.today])
    } else {
      await client.query(`INSERT INTO ${t.status} (${t.mainId}, rezept_status, status_abfrage_datum) VALUES ($1, $2, $3)`, [c.mainId, c.status, c.today])
    }
  }
}

export async function answerStatusUpdate(request: RouteRequest): Promise<void> {
  const { req, res } = request
  const body = await readJsonBody(req, res)
  if (body === undefined) return
  const bound = bindUpdates(body)
  if ('errors' in bound) return sendValidationProblem(res, bound.errors)
  const { updates } = bound
  if (updates.length === 0) return sendText(req, res, 400, 'Updates list cannot be empty')
  if (updates.length > MAX_BULK_SIZE) return sendText(req, res, 400, `Bulk operation limited to ${MAX_BULK_SIZE} items`)

  let client: pg.PoolClient
  try {
    client = await request.db.connect()
  } catch {
    return sendText(req, res, 500, 'Internal server error occurred during bulk status update')
  }
  const errors: string[] = []
  let successCount = 0
  let failed = false
  try {
    await client.query('BEGIN')
    const changes: PendingChange[] = []
    for (const update of updates) {
      const table = TABLE_BY_LOWER_TYPE.get(update.type.toLowerCase())
      if (table === undefined) {
        errors.push(`Unknown prescription type: ${update.type}`)
        continue
      }
      try {
        if (await applyOne(client, table, update, changes)) successCount++
        else errors.push(`${table.name} prescription not found: ${update.rezeptUuid}`)
      } catch (error) {
        // The legacy catches a failing lookup per update and goes on, on a transaction PostgreSQL has
        // now aborted: later lookups fail with 25P02, and SaveChanges (if anything is pending) fails.
        errors.push(`Error updating ${update.rezeptUuid}: ${pgFailureText(error)}`)
      }
    }
    try {
      await saveChanges(client, changes)
    } catch (error) {
      throw Object.assign(new Error(SAVE_FAILED), { cause: error })
    }
    // COMMIT of an aborted transaction is answered ROLLBACK without an error, as Npgsql sees it too.
    await client.query('COMMIT')
  } catch (error) {
    failed = true
    await client.query('ROLLBACK').catch(() => {})
    errors.push(`Transaction failed: ${(error as Error).message === SAVE_FAILED ? SAVE_FAILED : pgFailureText(error)}`)
  } finally {
    client.release()
  }
  const errorCount = failed ? updates.length : errors.length
  sendJson(res, 200, '{"success":' + (errorCount === 0) + ',"processedCount":' + updates.length + ',"successCount":' + successCount +
    ',"errorCount":' + errorCount + ',"errors":[' + errors.map(jsonString).join(',') + '],"responseTimestamp":' + jsonUtcNow() + '}')
}

/** One update's lookups (N+1: the daten row, then the status row); false when the daten row is missing. */
async function applyOne(client: pg.PoolClient, table: PrescriptionTable, update: StatusUpdate, changes: PendingChange[]): Promise<boolean> {
  const daten = await client.query<{ daten_id: number; main_id: number | null }>(
    `SELECT ${table.datenId} AS daten_id, ${table.mainId} AS main_id FROM ${table.daten} WHERE rezept_uuid = $1 LIMIT 1`, [update.rezeptUuid])
  const row = daten.rows[0]
  if (row === undefined) return false
  if (update.transferArz !== null) changes.push({ kind: 'transfer', table, datenId: row.daten_id, value: update.transferArz })
  if (update.status !== null && update.status !== '') {
    const status = await client.query<{ status_id: number }>(
      `SELECT ${table.statusId} AS status_id FROM ${table.status} WHERE ${table.mainId} = $1 ORDER BY ${table.statusId} LIMIT 1`, [row.main_id])
    const today = serverToday()
    const existing = status.rows[0]
    changes.push(existing === undefined
      ? { kind: 'status-insert', table, mainId: row.main_id, status: update.status, today }
      : { kind: 'status-update', table, statusId: existing.status_id, status: update.status, today })
  }
  return true
}
