// The request's first stage: a GET of /v2/rezept(/status) into a typed list request, or why the legacy must answer it (docs/legacy-contract.md §2-§5).
import type { DeferReason, FastPathRequest, RouteId } from '../contract.ts'
import { PRESCRIPTION_TYPES, type PrescriptionType } from '../../sql/queries/prescription-types.ts'

export interface ListRequest {
  /** Selected types in the legacy's order; empty for an unknown `type` (no query runs). */
  readonly types: readonly PrescriptionType[]
  readonly page: number
  /** Already clamped to MaxPageSize: the value the answer echoes. */
  readonly pageSize: number
  /** OFFSET of every type's page query, (page-1)*pageSize. */
  readonly offset: number
}

export type ListRequestParse = { readonly ok: true; readonly request: ListRequest } | { readonly ok: false; readonly reason: DeferReason }

const INT32_MAX = 2147483647
// Canonical decimal only: no sign, no leading zeros, no blanks. `+1`, `01`, ` 1`, `0x1` bind the same
// in ASP.NET but are rare enough to leave to the legacy rather than re-implement Int32Converter.
const CANONICAL_INT = /^(0|[1-9][0-9]{0,9})$/
// A `type` value that decodes to itself under both URL-decoders: no %, no +, printable ASCII only.
// ASCII-only also makes OrdinalIgnoreCase equal to a plain ASCII case fold (no ſ → S surprises).
const PLAIN_TYPE = /^[!$'()*,\-.\/0-9:;=?@A-Z\[\]^_`a-z{|}~]*$/
const PLAIN_NAME = /^[!$'()*,\-.\/0-9:;=?@A-Z\[\]^_`a-z{|}~]*$/
const PLUS_NAME = /^[!$'()*+,\-.\/0-9:;=?@A-Z\[\]^_`a-z{|}~]*$/
const KNOWN_NAMES = new Set(['page', 'pagesize', 'type', 'pharmacyid'])

const ALL_TYPES: readonly PrescriptionType[] = PRESCRIPTION_TYPES
const NO_TYPES: readonly PrescriptionType[] = Object.freeze([])

const QUERY: ListRequestParse = Object.freeze({ ok: false, reason: 'query' })
const PAGE_SIZE_LIMIT: ListRequestParse = Object.freeze({ ok: false, reason: 'page-size-limit' })
const METHOD: ListRequestParse = Object.freeze({ ok: false, reason: 'method' })
const TENANT_HEADER: ListRequestParse = Object.freeze({ ok: false, reason: 'tenant-header' })
const VERSION_HEADER: ListRequestParse = Object.freeze({ ok: false, reason: 'version-header' })

/**
 * What the fast path can tell before any I/O: the method, the headers the legacy treats specially,
 * then the query string (parseListRequest).
 */
export function readListRequest(routeId: RouteId, request: FastPathRequest, maxPageSize: number, fastPathMaxPageSize: number): ListRequestParse {
  if (request.method !== 'GET') return METHOD
  // docs/legacy-contract.md §2: the legacy answers any X-Tenant-Id with 500; §3: X-API-Version brings its own rules.
  if (request.headers['x-tenant-id'] !== undefined) return TENANT_HEADER
  if (request.headers['x-api-version'] !== undefined) return VERSION_HEADER
  return parseListRequest(request.rawUrl, routeId === 'v2.rezept.pharmacy', maxPageSize, fastPathMaxPageSize)
}

/** The types a `type` value selects (docs/legacy-contract.md §4): empty → all; one match; anything else → none. */
function typesFor(value: string | undefined): readonly PrescriptionType[] {
  if (value === undefined || value === '') return ALL_TYPES
  const folded = value.toLowerCase()
  for (const type of ALL_TYPES) if (type.foldedName === folded) return [type]
  return NO_TYPES
}

/**
 * Reads `page`, `pageSize`, `type` (and, on /status, the ignored `pharmacyId`) from the raw query.
 * Only the cases whose legacy answer is certain are accepted: each known name at most once, names
 * and values that no decoding could change, integers in canonical form within the 32-bit range,
 * page >= 1 and no 32-bit overflow in the paging arithmetic. Everything else defers.
 */
export function parseListRequest(rawUrl: string, withPharmacyId: boolean, maxPageSize: number, fastPathMaxPageSize: number): ListRequestParse {
  const q = rawUrl.indexOf('?')
  let pageText: string | undefined
  let pageSizeText: string | undefined
  let typeText: string | undefined
  let pharmacySeen = false
  if (q >= 0) {
    const query = rawUrl.slice(q + 1)
    if (query.includes('#')) return QUERY
    for (const part of query.split('&')) {
      if (part === '') continue
      const eq = part.indexOf('=')
      const name = eq < 0 ? part : part.slice(0, eq)
      const value = eq < 0 ? '' : part.slice(eq + 1)
      // A name that might decode to one of ours (%xx) or fold differently (non-ASCII) is not ours to judge;
      // `+` decodes to a blank, so a name is ours only if it is ours without its pluses (then defer).
      let folded = name.toLowerCase()
      if (!PLAIN_NAME.test(name)) {
        if (!PLUS_NAME.test(name)) return QUERY
        if (KNOWN_NAMES.has(folded.replaceAll('+', ''))) return QUERY
        folded = ''
      }
      switch (folded) {
        case 'page':
          if (pageText !== undefined || eq < 0) return QUERY
          pageText = value
          break
        case 'pagesize':
          if (pageSizeText !== undefined || eq < 0) return QUERY
          pageSizeText = value
          break
        case 'type':
          if (typeText !== undefined || !PLAIN_TYPE.test(value)) return QUERY
          typeText = value
          break
        case 'pharmacyid':
          if (withPharmacyId) {
            if (pharmacySeen) return QUERY
            pharmacySeen = true
          }
          break
        default:
          // Unknown parameters are ignored by the legacy (docs/legacy-contract.md §3); so are their values.
      }
    }
  }
  const page = pageText === undefined ? 1 : canonicalInt(pageText)
  const requestedSize = pageSizeText === undefined ? 100 : canonicalInt(pageSizeText)
  if (page < 1 || requestedSize < 0) return QUERY
  const pageSize = requestedSize > maxPageSize ? maxPageSize : requestedSize
  // The legacy computes these in wrapping int32 arithmetic; stay where that equals plain arithmetic.
  if (page * pageSize > INT32_MAX) return QUERY
  if (pageSize > fastPathMaxPageSize) return PAGE_SIZE_LIMIT
  return { ok: true, request: { types: typesFor(typeText), page, pageSize, offset: (page - 1) * pageSize } }
}

/** The value of a canonical non-negative int32, or -1. */
function canonicalInt(text: string): number {
  if (!CANONICAL_INT.test(text)) return -1
  const value = Number(text)
  return value > INT32_MAX ? -1 : value
}
