// PATCH /v2/rezept/status (docs/legacy-contract.md §7): one READ COMMITTED transaction, per-update lookups (N+1), per-item errors, HTTP 200 even on failure.
import type pg from 'pg'
import { sendJson, sendText, sendValidationProblem } from './http-responses.ts'
import { conversionError, isObject, property, readJsonBody } from './json-request-body.ts'
import { jsonString, jsonUtcNow } from './json-text.ts'
import { PRESCRIPTION_TABLES, type PrescriptionTable } from './prescription-tables.ts'
import type { RouteRequest } from './request-context.ts'
import { serverToday } from './server-date.ts'
import { ChangeTracker } from './tracked-changes.ts'

const MAX_BULK_SIZE = 1000
const TABLE_BY_LOWER_TYPE = new Map(PRESCRIPTION_TABLES.map((t) => [t.name.toLowerCase(), t]))
// What EF Core's DbUpdateException says when SaveChanges fails; Npgsql errors from queries read "<sqlstate>: <text>".
const SAVE_FAILED = 'An error occurred while saving the entity changes. See the inner exception for details.'

interface StatusUpdate { rezeptUuid: string; type: string; transferArz: boolean | null; status: string | null }

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

/** SaveChanges inside the request's transaction: EF wraps its statements in a savepoint there. */
async function saveChanges(client: pg.PoolClient, tracker: ChangeTracker): Promise<void> {
  const statements = tracker.pendingStatements()
  if (statements.length === 0) return
  await client.query('SAVEPOINT "__EFSavePoint"')
  for (const statement of statements) await client.query(statement.text, statement.values)
  await client.query('RELEASE SAVEPOINT "__EFSavePoint"')
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
    await client.query('BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED')
    const tracker = new ChangeTracker(client)
    const today = serverToday(request.settings.timeZone)
    for (const update of updates) {
      const table = TABLE_BY_LOWER_TYPE.get(update.type.toLowerCase())
      if (table === undefined) {
        errors.push(`Unknown prescription type: ${update.type}`)
        continue
      }
      try {
        if (await applyOne(tracker, table, update, today)) successCount++
        else errors.push(`${table.name} prescription not found: ${update.rezeptUuid}`)
      } catch (error) {
        // The legacy catches a failing lookup per update and goes on, on a transaction PostgreSQL has
        // now aborted: later lookups fail with 25P02, and SaveChanges (if anything is pending) fails.
        errors.push(`Error updating ${update.rezeptUuid}: ${pgFailureText(error)}`)
      }
    }
    try {
      await saveChanges(client, tracker)
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

/**
 * One update's lookups (N+1: the daten row by uuid, then the prescription's status row), applied to the
 * tracked rows; false when the daten row is missing. Which status row: the first the plan yields (docs/legacy-contract.md §7).
 */
async function applyOne(tracker: ChangeTracker, table: PrescriptionTable, update: StatusUpdate, today: string): Promise<boolean> {
  const daten = await tracker.datenByUuid(table, update.rezeptUuid)
  if (daten === undefined) return false
  if (update.transferArz !== null) daten.transferArz = update.transferArz
  if (update.status !== null && update.status !== '') await tracker.setStatus(table, daten.mainId, update.status, today)
  return true
}
