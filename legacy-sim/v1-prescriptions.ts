// The deprecated v1 routes (docs/legacy-contract.md §8): GET new loads every new row and pages in memory; mark-as-read and set-abgerechnet by uuid.
import type pg from 'pg'
import { sendJson, sendText, sendValidationProblem } from './http-responses.ts'
import { conversionError, isObject, property, readJsonBody } from './json-request-body.ts'
import { jsonBigintText, jsonNullableString, jsonString } from './json-text.ts'
import { newPrescriptionsCount } from './new-prescriptions.ts'
import { equalsOrdinalIgnoreCase, PRESCRIPTION_TABLES, type PrescriptionTable } from './prescription-tables.ts'
import { bindPaging } from './query-binding.ts'
import type { RouteRequest } from './request-context.ts'
import { serverToday } from './server-date.ts'
import { ChangeTracker } from './tracked-changes.ts'

interface V1Row { id: number; rz_liefer_id: string; number_value: string | null; daten_id: number; rezept_uuid: string; xml_request: string }

/**
 * Every new row of a type, in the legacy's own statement shape (observed-sql.md): no ORDER BY, and
 * each daten column from its own correlated `LIMIT 1` subquery. Row order and the daten row picked
 * are the plan's, so the statement is kept as the legacy sends it and run with PostgreSQL's default
 * planner settings (the simulator's pools set none): the same plan gives the same order.
 */
function allNewSql(t: PrescriptionTable): string {
  const firstDaten = (alias: string, column: string) => `(
        SELECT ${alias}.${column}
        FROM ${t.daten} AS ${alias}
        WHERE e.${t.mainId} = ${alias}.${t.mainId} AND ${alias}.transfer_arz = FALSE
        LIMIT 1)`
  const numberAs = (name: PrescriptionTable['name'], label: string) => t.name === name ? `e.${t.numberColumn} AS "${label}"` : `NULL AS "${label}"`
  return `SELECT '${t.name}' AS "Type", e.${t.mainId} AS id, e.rz_liefer_id, ${numberAs('eMuster16', 'Muster16Id')}, ${firstDaten('e2', 'rezept_uuid')} AS rezept_uuid, ${firstDaten('e3', 'xml_request')} AS xml_request, COALESCE(${firstDaten('e4', 'transfer_arz')}, FALSE) AS "TransferArz", ${firstDaten('e5', t.datenId)} AS daten_id, ${numberAs('P-Rezept', 'TransaktionsNummer')}, ${numberAs('E-Rezept', 'ErezeptId')}
    FROM ${t.main} AS e
    WHERE EXISTS (
        SELECT 1
        FROM ${t.daten} AS e0
        WHERE e.${t.mainId} = e0.${t.mainId} AND e0.transfer_arz = FALSE) AND NOT EXISTS (
        SELECT 1
        FROM ${t.status} AS e1
        WHERE e.${t.mainId} = e1.${t.mainId} AND e1.rezept_status = 'ABGERECHNET')`
}
const ALL_NEW_SQL = new Map(PRESCRIPTION_TABLES.map((t) => [t.name, allNewSql(t)]))
const NUMBER_LABEL: Record<PrescriptionTable['name'], string> = { 'eMuster16': 'Muster16Id', 'P-Rezept': 'TransaktionsNummer', 'E-Rezept': 'ErezeptId' }

function v1ItemJson(t: PrescriptionTable, r: V1Row): string {
  return '{"type":"' + t.name + '","id":' + r.id + ',"rezeptUuid":' + jsonString(r.rezept_uuid) + ',"xmlRequest":' + jsonString(r.xml_request) +
    ',"transferArz":false,"rzLieferId":' + jsonString(r.rz_liefer_id) +
    ',"muster16Id":' + (t.name === 'eMuster16' ? jsonBigintText(r.number_value) : 'null') +
    ',"transaktionsNummer":' + (t.name === 'P-Rezept' ? jsonBigintText(r.number_value) : 'null') +
    ',"erezeptId":' + (t.name === 'E-Rezept' ? jsonNullableString(r.number_value) : 'null') +
    ',"datenId":' + r.daten_id + '}'
}

export async function answerV1NewPrescriptions(request: RouteRequest): Promise<void> {
  const { req, res, query } = request
  const paging = bindPaging(query)
  if (!paging.ok) return sendValidationProblem(res, paging.errors)
  const rezeptType = query.get('rezepttype')
  const tables = rezeptType === undefined || rezeptType.trim() === '' // white space binds as null
    ? PRESCRIPTION_TABLES
    : PRESCRIPTION_TABLES.filter((t) => equalsOrdinalIgnoreCase(rezeptType, t.v1Name))
  const pageSize = paging.size // v1 does not clamp
  let everything: string[]
  let totalCount = 0
  try {
    everything = []
    for (const t of tables) {
      const result = await request.db.query<V1Row & Record<string, string | null>>(ALL_NEW_SQL.get(t.name)!)
      for (const row of result.rows) everything.push(v1ItemJson(t, { ...row, number_value: row[NUMBER_LABEL[t.name]] ?? null }))
    }
    for (const t of tables) totalCount = (totalCount + (await newPrescriptionsCount(request.db, t))) | 0
  } catch {
    return sendText(req, res, 500, 'Internal server error')
  }
  // LINQ Skip/Take on the list: a negative skip is none, a negative take yields nothing.
  const skip = Math.max(0, Math.imul((paging.page - 1) | 0, pageSize))
  const take = Math.max(0, pageSize)
  const pageItems = everything.slice(skip, skip + take)
  sendJson(res, 200, '{"prescriptions":[' + pageItems.join(',') + '],"totalCount":' + totalCount + ',"page":' + paging.page +
    ',"pageSize":' + pageSize + ',"hasNextPage":' + (Math.imul(paging.page, pageSize) < totalCount) + '}')
}

interface Identifier { type: string; rezeptUuid: string }

function bindIdentifiers(body: unknown): Identifier[] | Array<[string, string]> {
  const errors: Array<[string, string]> = []
  if (!isObject(body)) return [conversionError('$', 'ArzTi3Server.Domain.DTOs.BulkOperationRequest'), ['request', 'The request field is required.']]
  const list = property(body, 'prescriptions')
  if (list === undefined || list === null) return [['Prescriptions', 'The Prescriptions field is required.']]
  if (!Array.isArray(list)) return [conversionError('$.prescriptions', 'System.Collections.Generic.IEnumerable`1[ArzTi3Server.Domain.DTOs.PrescriptionIdentifier]'), ['request', 'The request field is required.']]
  const identifiers: Identifier[] = []
  list.forEach((item: unknown, i) => {
    if (!isObject(item)) return errors.push(conversionError(`$.prescriptions[${i}]`, 'ArzTi3Server.Domain.DTOs.PrescriptionIdentifier'))
    const type = property(item, 'type') ?? null
    const uuid = property(item, 'rezeptUuid') ?? null
    if (type !== null && typeof type !== 'string') errors.push(conversionError(`$.prescriptions[${i}].type`, 'System.String'))
    if (uuid !== null && typeof uuid !== 'string') errors.push(conversionError(`$.prescriptions[${i}].rezeptUuid`, 'System.String'))
    // PrescriptionIdentifier's non-nullable strings are implicitly [Required]: null, missing and "" fail.
    if (typeof type !== 'string' || type === '') errors.push([`Prescriptions[${i}].Type`, 'The Type field is required.'])
    if (typeof uuid !== 'string' || uuid === '') errors.push([`Prescriptions[${i}].RezeptUuid`, 'The RezeptUuid field is required.'])
    identifiers.push({ type: type as string, rezeptUuid: uuid as string })
  })
  return errors.length > 0 ? errors : identifiers
}

function v1Write(kind: 'mark-as-read' | 'set-abgerechnet') {
  return async function answerV1Write(request: RouteRequest): Promise<void> {
    const { req, res } = request
    const body = await readJsonBody(req, res)
    if (body === undefined) return
    const bound = bindIdentifiers(body)
    if (bound.length > 0 && Array.isArray(bound[0])) return sendValidationProblem(res, bound as Array<[string, string]>)
    const identifiers = bound as Identifier[]
    const failure = '{"success":false,"processedCount":0,"errors":["Internal server error"]}'
    const today = serverToday(request.settings.timeZone)
    let client: pg.PoolClient | undefined
    try {
      client = await request.db.connect()
      // The lookups run outside a transaction; SaveChanges opens its own for the writes (docs/legacy-contract.md §8).
      const tracker = new ChangeTracker(client)
      for (const t of PRESCRIPTION_TABLES) {
        // The type is compared case-sensitively here; other values are ignored (docs/legacy-contract.md §8).
        const uuids = identifiers.filter((p) => p.type === t.name).map((p) => p.rezeptUuid)
        if (uuids.length === 0) continue
        let prescriptionIds: number[]
        if (kind === 'mark-as-read') {
          const daten = await tracker.untransferredDaten(t, uuids)
          for (const d of daten) d.transferArz = true
          // Distinct, in the order of the rows PostgreSQL returned.
          prescriptionIds = [...new Set(daten.filter((d) => d.mainId !== null).map((d) => d.mainId!))]
        } else {
          prescriptionIds = await tracker.prescriptionsOfUuids(t, uuids)
        }
        // Per prescription the first status row the plan yields (no ORDER BY), as in PATCH status.
        for (const id of prescriptionIds) await tracker.setStatus(t, id, kind === 'mark-as-read' ? 'GELESEN' : 'ABGERECHNET', today)
      }
      const statements = tracker.pendingStatements()
      if (statements.length > 0) {
        await client.query('BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED')
        try {
          for (const statement of statements) await client.query(statement.text, statement.values)
          await client.query('COMMIT')
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {})
          throw error
        }
      }
    } catch {
      return sendJson(res, 500, failure)
    } finally {
      client?.release()
    }
    sendJson(res, 200, '{"success":true,"processedCount":' + identifiers.length + ',"errors":[]}')
  }
}

export const answerMarkAsRead = v1Write('mark-as-read')
export const answerSetAbgerechnet = v1Write('set-abgerechnet')
