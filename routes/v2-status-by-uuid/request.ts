// The request's first stage for PATCH /v2/rezept/statusuuid (docs/legacy-contract.md §6): the buffered
// body read strictly into the asked uuids, or one of the legacy's certain 400s, or why the legacy
// must answer instead. Only one shape is ours: `{"rezeptUuids":[<strings>]}` (or the property null,
// or missing, or the list empty) in plain UTF-8 JSON as application/json. Everything else — another
// content type, a BOM, other or repeated properties, items that are not strings, lone surrogates,
// bodies that do not parse — is a validation question whose exact text (byte positions, member
// order, §12.7) only the legacy knows.
import type { DeferReason, FastPathRequest } from '../contract.ts'

/** The legacy's Performance:MaxBulkSize as recorded (docs/legacy-contract.md §6, §12.6). */
export const MAX_BULK_SIZE = 1000

export type StatusRequest =
  /** 1 to MAX_BULK_SIZE uuids, in request order, duplicates kept. */
  | { readonly kind: 'uuids'; readonly uuids: readonly string[] }
  /** `[]` or no `rezeptUuids` (`{}`): 400 `RezeptUuids list cannot be empty`. */
  | { readonly kind: 'empty' }
  /** More than MAX_BULK_SIZE entries: 400 `Bulk operation limited to 1000 items`. */
  | { readonly kind: 'too-many' }
  /** `"rezeptUuids": null`: 400 validation problem. */
  | { readonly kind: 'null-list' }

export type StatusRequestParse = { readonly ok: true; readonly request: StatusRequest } | { readonly ok: false; readonly reason: DeferReason }

const fail = (reason: DeferReason): StatusRequestParse => Object.freeze({ ok: false, reason })
const METHOD = fail('method')
const TENANT_HEADER = fail('tenant-header')
const VERSION_HEADER = fail('version-header')
const QUERY = fail('query')
const BODY = fail('body')
const ACCEPT = fail('accept')

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** What the fast path can tell before any I/O: method, special headers, query, content type, then the body. */
export function readStatusRequest(request: FastPathRequest): StatusRequestParse {
  if (request.method !== 'PATCH') return METHOD
  const headers = request.headers
  // docs/legacy-contract.md §2: any X-Tenant-Id is the legacy's 500; §3: X-API-Version brings its own rules.
  if (headers['x-tenant-id'] !== undefined) return TENANT_HEADER
  if (headers['x-api-version'] !== undefined) return VERSION_HEADER
  // The route binds nothing from the query; a `#` or odd query is Kestrel's to judge. None is ours.
  if (request.rawUrl.includes('?') || request.rawUrl.includes('#')) return QUERY
  // Exactly `application/json`: charset parameters, other JSON types and spellings are the formatter's to judge.
  if (headers['content-type'] !== 'application/json') return BODY
  // Whether the legacy would decode a compressed body (no request decompression is configured, C) is not measured.
  if (headers['content-encoding'] !== undefined) return BODY
  if (request.body === undefined) return BODY
  const parsed = parseBody(request.body)
  if (parsed === undefined) return BODY
  // The 400 texts are content-negotiated (docs/legacy-contract.md §3): plain text only without an Accept
  // that could pick the JSON formatter; the problem's negotiation is not recorded either. Successful
  // answers are JSON whatever Accept says (R).
  if (parsed.kind !== 'uuids') {
    const accept = headers.accept
    if (accept !== undefined && accept !== '*/*') return ACCEPT
  }
  return { ok: true, request: parsed }
}

/** The body's one accepted shape, or undefined. */
export function parseBody(bytes: Buffer): StatusRequest | undefined {
  // A BOM: what the input formatter does with it is not measured.
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return undefined
  let text: string
  try {
    text = UTF8.decode(bytes)
  } catch {
    return undefined
  }
  const scan = new Scanner(text)
  scan.blanks()
  if (!scan.take('{')) return undefined
  scan.blanks()
  let result: StatusRequest
  if (scan.take('}')) {
    result = { kind: 'empty' } // no property: the DTO's empty list
  } else {
    // The name: ASCII letters only, so no escape or case fold can surprise (JsonSerializerDefaults.Web is case-insensitive).
    const name = scan.plainName()
    if (name === undefined || name.toLowerCase() !== 'rezeptuuids') return undefined
    scan.blanks()
    if (!scan.take(':')) return undefined
    scan.blanks()
    if (scan.take('null')) {
      result = { kind: 'null-list' }
    } else {
      if (!scan.take('[')) return undefined
      scan.blanks()
      const uuids: string[] = []
      let count = 0
      if (!scan.take(']')) {
        for (;;) {
          const item = scan.string()
          if (item === undefined) return undefined
          count++
          if (count <= MAX_BULK_SIZE) uuids.push(item)
          scan.blanks()
          if (scan.take(']')) break
          if (!scan.take(',')) return undefined
          scan.blanks()
        }
      }
      result = count === 0 ? { kind: 'empty' } : count > MAX_BULK_SIZE ? { kind: 'too-many' } : { kind: 'uuids', uuids }
    }
    scan.blanks()
    if (!scan.take('}')) return undefined
  }
  scan.blanks()
  return scan.atEnd() ? result : undefined
}

class Scanner {
  readonly #text: string
  #at = 0

  constructor(text: string) {
    this.#text = text
  }

  /** JSON's four blanks (RFC 8259), the same set System.Text.Json skips. */
  blanks(): void {
    const text = this.#text
    while (this.#at < text.length) {
      const c = text.charCodeAt(this.#at)
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return
      this.#at++
    }
  }

  take(literal: string): boolean {
    if (!this.#text.startsWith(literal, this.#at)) return false
    this.#at += literal.length
    return true
  }

  atEnd(): boolean {
    return this.#at === this.#text.length
  }

  plainName(): string | undefined {
    const match = /^"([A-Za-z]+)"/.exec(this.#text.slice(this.#at, this.#at + 64))
    if (match === null) return undefined
    this.#at += match[0].length
    return match[1]
  }

  /** A JSON string token decoded, or undefined for anything else (raw controls, bad escapes, lone surrogates). */
  string(): string | undefined {
    const text = this.#text
    if (text.charCodeAt(this.#at) !== 0x22) return undefined
    let end = this.#at + 1
    for (;;) {
      if (end >= text.length) return undefined
      const c = text.charCodeAt(end)
      if (c === 0x22) break
      if (c === 0x5c) end++ // the escaped character is checked by JSON.parse below
      end++
    }
    let value: unknown
    try {
      value = JSON.parse(text.slice(this.#at, end + 1))
    } catch {
      return undefined
    }
    if (typeof value !== 'string' || LONE_SURROGATE.test(value)) return undefined
    this.#at = end + 1
    return value
  }
}
