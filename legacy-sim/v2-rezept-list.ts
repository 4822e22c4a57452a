// GET /v2/rezept and GET /v2/rezept/status (docs/legacy-contract.md §4, §5): per-type pages concatenated, 32-bit paging, the mislabelled status fields.
import type pg from 'pg'
import { sendJson, sendText, sendValidationProblem } from './http-responses.ts'
import { jsonBigintText, jsonDateAndTime, jsonDateAtMidnight, jsonNullableString, jsonString, jsonUtcNow } from './json-text.ts'
import { newPrescriptionsCount, newPrescriptionsPage, type NewPrescriptionRow } from './new-prescriptions.ts'
import { equalsOrdinalIgnoreCase, PRESCRIPTION_TABLES, type PrescriptionTable } from './prescription-tables.ts'
import { bindPaging } from './query-binding.ts'
import type { RouteRequest } from './request-context.ts'

const AVS_SYSTEM = '{"manufacturer":"GfAL","name":"ArzTi","version":"3.0"}'

export interface NewPrescriptionItem {
  table: PrescriptionTable
  row: NewPrescriptionRow
}

/**
 * The types a `type` filter selects: missing or empty → all three; unknown → none (docs/legacy-contract.md §4).
 * MVC binds a white-space-only string as null (ConvertEmptyStringToNull), so that means all too.
 */
export function tablesForType(type: string | undefined): PrescriptionTable[] {
  if (type === undefined || type.trim() === '') return [...PRESCRIPTION_TABLES]
  return PRESCRIPTION_TABLES.filter((t) => equalsOrdinalIgnoreCase(type, t.name))
}

/** Every selected type's page (OFFSET/LIMIT in int32 arithmetic), concatenated in type order; no counts. */
export async function newPrescriptionPages(db: pg.Pool, tables: readonly PrescriptionTable[], page: number, pageSize: number): Promise<NewPrescriptionItem[]> {
  const offset = Math.imul((page - 1) | 0, pageSize)
  const items: NewPrescriptionItem[] = []
  for (const table of tables) {
    for (const row of await newPrescriptionsPage(db, table, offset, pageSize)) items.push({ table, row })
  }
  return items
}

/**
 * The legacy's list computation: every selected type's page (OFFSET/LIMIT in int32 arithmetic),
 * concatenated in type order, then every selected type's count. Throws on any database error.
 */
export async function computeNewPrescriptions(db: pg.Pool, tables: readonly PrescriptionTable[], page: number, pageSize: number): Promise<{ items: NewPrescriptionItem[]; totalCount: number }> {
  const items = await newPrescriptionPages(db, tables, page, pageSize)
  let totalCount = 0
  for (const table of tables) totalCount = (totalCount + (await newPrescriptionsCount(db, table))) | 0
  return { items, totalCount }
}

function itemJson(item: NewPrescriptionItem): string {
  const { table, row } = item
  const number = row.number_value
  return '{"type":"' + table.name + '","id":' + row.id +
    ',"rezeptUuid":' + jsonString(row.rezept_uuid) +
    ',"xmlRequest":' + jsonString(row.xml_request) +
    ',"transferArz":false' +
    ',"rzLieferId":' + (table.name === 'eMuster16' ? jsonString(row.rz_liefer_id) : 'null') +
    ',"muster16Id":' + (table.name === 'eMuster16' ? jsonBigintText(number) : 'null') +
    ',"transaktionsNummer":' + (table.name === 'P-Rezept' ? jsonBigintText(number) : 'null') +
    ',"erezeptId":' + (table.name === 'E-Rezept' ? jsonNullableString(number) : 'null') +
    ',"datenId":' + row.daten_id +
    // (sic) docs/legacy-contract.md §4: regelTrefferCode carries abrechen_status, checkLevel carries rezept_status.
    ',"regelTrefferCode":' + jsonNullableString(row.abrechen_status) +
    ',"checkLevel":' + jsonNullableString(row.rezept_status) +
    ',"statusAbfrageDatum":' + jsonDateAtMidnight(row.status_abfrage_datum) +
    ',"statusAbfrageZeit":' + jsonDateAndTime(row.status_abfrage_datum, row.status_abfrage_zeit) +
    ',"deliveryTimestamp":' + jsonUtcNow() + // taken per item as the list is built (docs/legacy-contract.md §4)
    ',"avsSystem":' + AVS_SYSTEM + '}'
}

function listHandler(failureText: string) {
  return async function answerList(request: RouteRequest): Promise<void> {
    const { req, res, query, settings } = request
    const paging = bindPaging(query)
    if (!paging.ok) {
      sendValidationProblem(res, paging.errors)
      return
    }
    const pageSize = paging.size > settings.maxPageSize ? settings.maxPageSize : paging.size
    let result: { items: NewPrescriptionItem[]; totalCount: number }
    try {
      result = await computeNewPrescriptions(request.db, tablesForType(query.get('type')), paging.page, pageSize)
    } catch {
      sendText(req, res, 500, failureText)
      return
    }
    let body = '{"prescriptions":['
    for (let i = 0; i < result.items.length; i++) {
      if (i > 0) body += ','
      body += itemJson(result.items[i]!)
    }
    body += '],"totalCount":' + result.totalCount + ',"page":' + paging.page + ',"pageSize":' + pageSize +
      ',"hasNextPage":' + (Math.imul(paging.page, pageSize) < result.totalCount) +
      ',"environment":' + jsonString(settings.environment) + ',"responseTimestamp":' + jsonUtcNow() + '}'
    sendJson(res, 200, body)
  }
}

export const answerNewPrescriptions = listHandler('Internal server error occurred while retrieving prescriptions')
// docs/legacy-contract.md §5: pharmacyId is ignored; the answer is §4's with its own failure text.
export const answerPharmacyPrescriptions = listHandler('Internal server error occurred while retrieving pharmacy prescriptions')
