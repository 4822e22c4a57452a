// The request's last stage: the 200 answer of GET /v2/rezept(/status), its body byte for byte as the
// legacy writes it (docs/legacy-contract.md §1, §4), from text rows of PostgreSQL.
import type { ResponseCache } from '../../cache/response-cache.ts'
import type { FastAnswer } from '../contract.ts'
import { EscapedTextMemo } from '../../json/escaped-text-memo.ts'
import { JsonBytes } from '../../json/json-bytes.ts'
import { dateAndTime, dateAtMidnight, utcNowText } from '../../json/dotnet-time.ts'
import type { PrescriptionType } from '../../sql/queries/prescription-types.ts'
import type { AvsSystem } from './settings.ts'

export const CONTENT_TYPE = 'application/json; charset=utf-8'

/** An answer whose body was written for this request. */
export function freshAnswer(body: Buffer): FastAnswer {
  return { kind: 'answer', status: 200, contentType: CONTENT_TYPE, body, servedBy: 'fast' }
}

/** An answer the cache rendered into reused memory, handed back once sent. */
export function cachedAnswer(body: Buffer, servedBy: FastAnswer['servedBy'], cache: ResponseCache): FastAnswer {
  return { kind: 'answer', status: 200, contentType: CONTENT_TYPE, body, servedBy, release: () => cache.recycle(body) }
}

/** One type's page rows, each the PAGE_COLUMNS text values of sql/queries/new-prescriptions.ts. */
export interface TypePage {
  readonly type: PrescriptionType
  readonly rows: ReadonlyArray<ReadonlyArray<string | null>>
}

export interface ListBodyFacts {
  readonly pages: readonly TypePage[]
  /** Sum of the types' counts. */
  readonly totalCount: number
  readonly page: number
  readonly pageSize: number
  /** Whose rows these are (the tenant database's identity): keys of the escaped-XML memo. */
  readonly source: string
}

/** Fixed pieces of every answer, computed once from the settings. */
export class ListBodyWriter {
  readonly #bytes = new JsonBytes()
  readonly #itemStart: ReadonlyMap<string, Buffer>
  readonly #avsTail: Buffer
  readonly #environment: Buffer
  readonly #xml: EscapedTextMemo

  /** `xml`: where escaped xmlRequest texts are kept for the next answer (a memo of 0 bytes keeps none). */
  constructor(avsSystem: AvsSystem, environment: string, xml: EscapedTextMemo = new EscapedTextMemo(0)) {
    this.#xml = xml
    const starts = new Map<string, Buffer>()
    for (const name of ['eMuster16', 'P-Rezept', 'E-Rezept']) starts.set(name, Buffer.from(`{"type":"${name}","id":`, 'latin1'))
    this.#itemStart = starts
    const scratch = new JsonBytes()
    scratch.ascii(',"avsSystem":{"manufacturer":')
    scratch.string(avsSystem.manufacturer)
    scratch.ascii(',"name":')
    scratch.string(avsSystem.name)
    scratch.ascii(',"version":')
    scratch.string(avsSystem.version)
    scratch.ascii('}}')
    this.#avsTail = scratch.toBuffer()
    scratch.reset()
    scratch.ascii(',"environment":')
    scratch.string(environment)
    scratch.ascii(',"responseTimestamp":"')
    this.#environment = scratch.toBuffer()
  }

  /** The whole body. Throws UnrepresentableDateError for a date the legacy would write differently. */
  write(facts: ListBodyFacts): Buffer {
    const out = this.#bytes
    out.reset()
    out.ascii('{"prescriptions":[')
    let first = true
    for (const { type, rows } of facts.pages) {
      const start = this.#itemStart.get(type.name)!
      for (const row of rows) {
        if (!first) out.ascii(',')
        first = false
        this.#item(out, type, start, row, facts.source)
      }
    }
    out.ascii('],"totalCount":' + facts.totalCount + ',"page":' + facts.page + ',"pageSize":' + facts.pageSize +
      ',"hasNextPage":' + (facts.page * facts.pageSize < facts.totalCount))
    out.bytes(this.#environment)
    out.ascii(utcNowText() + '"}')
    return out.toBuffer()
  }

  #item(out: JsonBytes, type: PrescriptionType, start: Buffer, row: ReadonlyArray<string | null>, source: string): void {
    out.bytes(start)
    out.ascii(row[0]!)
    out.ascii(',"rezeptUuid":')
    out.string(row[4]!)
    out.ascii(',"xmlRequest":')
    // Keyed by the daten row the text comes from; used only while the text is unchanged.
    this.#xml.write(out, source + '|' + type.key + '|' + row[3]!, row[5]!)
    out.ascii(',"transferArz":false,"rzLieferId":')
    out.nullableString(row[1]!)
    // Bigint columns go out as PostgreSQL's digits, never through a JS number (docs/legacy-contract.md §1).
    const number = row[2] ?? null
    out.ascii(',"muster16Id":')
    out.ascii(type.name === 'eMuster16' && number !== null ? number : 'null')
    out.ascii(',"transaktionsNummer":')
    out.ascii(type.name === 'P-Rezept' && number !== null ? number : 'null')
    out.ascii(',"erezeptId":')
    out.nullableString(type.name === 'E-Rezept' ? number : null)
    out.ascii(',"datenId":')
    out.ascii(row[3]!)
    // (sic) docs/legacy-contract.md §4: regelTrefferCode carries abrechen_status, checkLevel carries rezept_status.
    out.ascii(',"regelTrefferCode":')
    out.nullableString(row[6] ?? null)
    out.ascii(',"checkLevel":')
    out.nullableString(row[7] ?? null)
    const datum = row[8] ?? null
    const zeit = row[9] ?? null
    out.ascii(',"statusAbfrageDatum":')
    if (datum === null) out.ascii('null')
    else out.ascii('"' + dateAtMidnight(datum) + '"')
    out.ascii(',"statusAbfrageZeit":')
    if (datum === null || zeit === null) out.ascii('null')
    else out.ascii('"' + dateAndTime(datum, zeit) + '"')
    // Taken per item as the list is built (docs/legacy-contract.md §4).
    out.ascii(',"deliveryTimestamp":"' + utcNowText() + '"')
    out.bytes(this.#avsTail)
  }
}
