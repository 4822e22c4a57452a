// PATCH /v2/rezept/statusuuid (docs/legacy-contract.md §6): the §4 window of page 1 × 1000, filtered to the asked uuids; everything else "not found".
import { sendJson, sendText, sendValidationProblem } from './http-responses.ts'
import { conversionError, isObject, property, readJsonBody } from './json-request-body.ts'
import { jsonDateAtMidnight, jsonNullableString, jsonString, jsonUtcNow } from './json-text.ts'
import { PRESCRIPTION_TABLES } from './prescription-tables.ts'
import type { RouteRequest } from './request-context.ts'
import { newPrescriptionPages } from './v2-rezept-list.ts'

// The legacy's Performance:MaxBulkSize and the fixed window it looks in.
const MAX_BULK_SIZE = 1000
const WINDOW_PAGE_SIZE = 1000

export async function answerStatusByUuid(request: RouteRequest): Promise<void> {
  const { req, res } = request
  const body = await readJsonBody(req, res)
  if (body === undefined) return
  if (!isObject(body)) {
    sendValidationProblem(res, [conversionError('$', 'ArzTi3Server.Domain.DTOs.V2.BulkStatusRequest'), ['request', 'The request field is required.']])
    return
  }
  const list = property(body, 'rezeptUuids')
  if (list === null) {
    sendValidationProblem(res, [['RezeptUuids', 'The RezeptUuids field is required.']])
    return
  }
  const uuids: Array<string | null> = []
  if (list !== undefined) { // a missing property leaves the DTO's empty list
    if (!Array.isArray(list) || list.some((u) => u !== null && typeof u !== 'string')) {
      sendValidationProblem(res, [conversionError('$.rezeptUuids', 'System.Collections.Generic.List`1[System.String]'), ['request', 'The request field is required.']])
      return
    }
    uuids.push(...(list as Array<string | null>))
  }
  if (uuids.length === 0) return sendText(req, res, 400, 'RezeptUuids list cannot be empty')
  if (uuids.length > MAX_BULK_SIZE) return sendText(req, res, 400, `Bulk operation limited to ${MAX_BULK_SIZE} items`)

  let window
  try {
    // The pages only: the legacy counts nothing here (observed-sql.md).
    window = await newPrescriptionPages(request.db, PRESCRIPTION_TABLES, 1, WINDOW_PAGE_SIZE)
  } catch {
    return sendText(req, res, 500, 'Internal server error occurred during bulk status retrieval')
  }
  const asked = new Set(uuids)
  const foundUuids = new Set<string>()
  let prescriptions = ''
  let successCount = 0
  for (const { table, row } of window) { // the window's order, not the request's
    if (!asked.has(row.rezept_uuid)) continue
    foundUuids.add(row.rezept_uuid)
    successCount++
    if (prescriptions !== '') prescriptions += ','
    prescriptions += '{"rezeptUuid":' + jsonString(row.rezept_uuid) + ',"type":"' + table.name + '","transferArz":false' +
      // (sic) status and checkLevel both carry rezept_status; regelTrefferCode carries abrechen_status.
      ',"status":' + jsonNullableString(row.rezept_status) + ',"regelTrefferCode":' + jsonNullableString(row.abrechen_status) +
      ',"checkLevel":' + jsonNullableString(row.rezept_status) + ',"errorMessages":[]' +
      ',"lastUpdated":' + jsonDateAtMidnight(row.status_abfrage_datum) + '}'
  }
  const globalErrors: string[] = []
  const reported = new Set<string | null>()
  for (const uuid of uuids) { // Enumerable.Except: distinct, in request order
    if (reported.has(uuid) || (uuid !== null && foundUuids.has(uuid))) continue
    reported.add(uuid)
    globalErrors.push(jsonString(`Prescription not found: ${uuid ?? ''}`))
  }
  sendJson(res, 200, '{"prescriptions":[' + prescriptions + '],"totalCount":' + uuids.length + ',"successCount":' + successCount +
    ',"errorCount":' + (uuids.length - successCount) + ',"globalErrors":[' + globalErrors.join(',') + '],"responseTimestamp":' + jsonUtcNow() + '}')
}
