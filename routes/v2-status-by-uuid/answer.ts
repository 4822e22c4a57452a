// The request's last stage for PATCH /v2/rezept/statusuuid: the legacy's bytes (docs/legacy-contract.md §1, §6)
// — the 200 body from the window's rows, the two 400 texts and the 400 validation problem.
import { randomBytes } from 'node:crypto'
import type { FastAnswer } from '../contract.ts'
import { JsonBytes } from '../../json/json-bytes.ts'
import { dateAtMidnight, utcNowText } from '../../json/dotnet-time.ts'
import type { TypePage } from '../v2-rezept-list/answer.ts'
import { MAX_BULK_SIZE } from './request.ts'

const JSON_TYPE = 'application/json; charset=utf-8'
const TEXT_TYPE = 'text/plain; charset=utf-8'
const PROBLEM_TYPE = 'application/problem+json; charset=utf-8'

// Columns of a page row (sql/queries/new-prescriptions.ts PAGE_COLUMNS) this answer reads.
const UUID = 4
const ABRECHEN_STATUS = 6
const REZEPT_STATUS = 7
const STATUS_DATUM = 8

// One answer is written synchronously at a time: the scratch memory is shared (toBuffer copies out).
const OUT = new JsonBytes()

function answer(status: number, contentType: string, body: Buffer): FastAnswer {
  return { kind: 'answer', status, contentType, body, servedBy: 'fast' }
}

/** `BadRequest("…")` without content negotiation (request.ts leaves any other Accept to the legacy). */
export function emptyListAnswer(): FastAnswer {
  return answer(400, TEXT_TYPE, Buffer.from('RezeptUuids list cannot be empty'))
}

export function tooManyAnswer(): FastAnswer {
  return answer(400, TEXT_TYPE, Buffer.from(`Bulk operation limited to ${MAX_BULK_SIZE} items`))
}

/** [ApiController]'s automatic 400 for `"rezeptUuids": null` (recorded), with a fresh W3C trace id. */
export function nullListAnswer(): FastAnswer {
  const hex = randomBytes(24).toString('hex')
  return answer(400, PROBLEM_TYPE, Buffer.from(
    '{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"One or more validation errors occurred.","status":400,' +
    `"errors":{"RezeptUuids":["The RezeptUuids field is required."]},"traceId":"00-${hex.slice(0, 32)}-${hex.slice(32, 48)}-00"}`,
    'latin1'))
}

/**
 * The 200 body: the window's items whose rezeptUuid was asked, in the window's order (each row that
 * matches is an item, even a uuid on two rows); `totalCount` the entries asked, duplicates counted;
 * one "not found" per distinct missing uuid in request order. Throws UnrepresentableDateError for a
 * date the legacy would write differently.
 */
export function statusBody(window: readonly TypePage[], uuids: readonly string[]): Buffer {
  const asked = new Set(uuids)
  const found = new Set<string>()
  const out = OUT
  out.reset()
  out.ascii('{"prescriptions":[')
  let successCount = 0
  for (const { type, rows } of window) {
    for (const row of rows) {
      const uuid = row[UUID] ?? null
      if (uuid === null || !asked.has(uuid)) continue
      found.add(uuid)
      if (successCount > 0) out.ascii(',')
      successCount++
      out.ascii('{"rezeptUuid":')
      out.string(uuid)
      out.ascii(',"type":"' + type.name + '","transferArz":false,"status":')
      // (sic) docs/legacy-contract.md §6: status and checkLevel both carry rezept_status, regelTrefferCode abrechen_status.
      out.nullableString(row[REZEPT_STATUS] ?? null)
      out.ascii(',"regelTrefferCode":')
      out.nullableString(row[ABRECHEN_STATUS] ?? null)
      out.ascii(',"checkLevel":')
      out.nullableString(row[REZEPT_STATUS] ?? null)
      out.ascii(',"errorMessages":[],"lastUpdated":')
      const datum = row[STATUS_DATUM] ?? null
      out.ascii(datum === null ? 'null' : '"' + dateAtMidnight(datum) + '"')
      out.ascii('}')
    }
  }
  out.ascii('],"totalCount":' + uuids.length + ',"successCount":' + successCount + ',"errorCount":' + (uuids.length - successCount) + ',"globalErrors":[')
  // Enumerable.Except: distinct, in request order.
  const reported = new Set<string>()
  for (const uuid of uuids) {
    if (found.has(uuid) || reported.has(uuid)) continue
    if (reported.size > 0) out.ascii(',')
    reported.add(uuid)
    out.string('Prescription not found: ' + uuid)
  }
  out.ascii('],"responseTimestamp":"' + utcNowText() + '"}')
  return out.toBuffer()
}

export function statusAnswer(window: readonly TypePage[], uuids: readonly string[]): FastAnswer {
  return answer(200, JSON_TYPE, statusBody(window, uuids))
}
