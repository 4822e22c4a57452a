// The request's last stage: the 200 answer of v1 GET new, byte for byte as the legacy writes it
// (docs/legacy-contract.md §8): no environment, no timestamps, rzLieferId for every type.
import type { FastAnswer } from '../contract.ts'
import { jsonStringText } from '../../json/json-bytes.ts'
import type { PrescriptionType } from '../../sql/queries/prescription-types.ts'
import { V1_COLUMN } from '../../sql/queries/v1-new-prescriptions.ts'
import type { RawRow } from '../../tenants/portal-rows.ts'

export const CONTENT_TYPE = 'application/json; charset=utf-8'

/** One type's rows of the page, in the order PostgreSQL sent them. */
export interface V1TypeRows {
  readonly type: PrescriptionType
  readonly rows: readonly RawRow[]
}

export interface V1BodyFacts {
  readonly items: readonly V1TypeRows[]
  readonly totalCount: number
  readonly page: number
  readonly pageSize: number
}

/** A value the legacy would write in a way this writer does not (a NULL where the legacy's model has a non-null string or int). */
export class UnwritableRow extends Error {}

function text(value: string | null): string {
  if (value === null) throw new UnwritableRow('a NULL where the legacy writes a value')
  return value
}

function itemJson(type: PrescriptionType, row: RawRow): string {
  const number = row[type.name === 'eMuster16' ? V1_COLUMN.muster16Id : type.name === 'P-Rezept' ? V1_COLUMN.transaktionsNummer : V1_COLUMN.erezeptId] ?? null
  return '{"type":"' + type.name + '","id":' + text(row[V1_COLUMN.id]!) +
    ',"rezeptUuid":' + jsonStringText(text(row[V1_COLUMN.rezeptUuid]!)) +
    ',"xmlRequest":' + jsonStringText(text(row[V1_COLUMN.xmlRequest]!)) +
    ',"transferArz":false,"rzLieferId":' + jsonStringText(text(row[V1_COLUMN.rzLieferId]!)) +
    ',"muster16Id":' + (type.name === 'eMuster16' && number !== null ? number : 'null') +
    ',"transaktionsNummer":' + (type.name === 'P-Rezept' && number !== null ? number : 'null') +
    ',"erezeptId":' + (type.name === 'E-Rezept' && number !== null ? jsonStringText(number) : 'null') +
    ',"datenId":' + text(row[V1_COLUMN.datenId]!) + '}'
}

/** The body: `hasNextPage` = page * pageSize < totalCount in int32 arithmetic, as the legacy computes it. */
export function v1Body(facts: V1BodyFacts): Buffer {
  const parts: string[] = []
  for (const { type, rows } of facts.items) for (const row of rows) parts.push(itemJson(type, row))
  return Buffer.from('{"prescriptions":[' + parts.join(',') + '],"totalCount":' + facts.totalCount + ',"page":' + facts.page +
    ',"pageSize":' + facts.pageSize + ',"hasNextPage":' + (Math.imul(facts.page, facts.pageSize) < facts.totalCount) + '}', 'utf8')
}

export function freshV1Answer(body: Buffer): FastAnswer {
  return { kind: 'answer', status: 200, contentType: CONTENT_TYPE, body, servedBy: 'fast' }
}
