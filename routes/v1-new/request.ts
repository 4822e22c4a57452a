// The request's first stage: a GET of /api/v1/Prescriptions/new into a typed request, or why the legacy
// must answer it (docs/legacy-contract.md §3, §8).
import type { DeferReason, FastPathRequest } from '../contract.ts'
import { PRESCRIPTION_TYPES, type PrescriptionType } from '../../sql/queries/prescription-types.ts'

export interface V1NewRequest {
  /** Selected types in the legacy's order; empty for an unknown `rezeptType` (nothing is new). */
  readonly types: readonly PrescriptionType[]
  /** As given (may be 0 or negative): echoed. */
  readonly page: number
  /** As given, not clamped (may be 0 or negative): echoed. */
  readonly pageSize: number
  /** Items of the concatenated list skipped before the page: LINQ Skip((page-1)*pageSize), int32 wrapping, negative as none. */
  readonly skip: number
  /** Items taken: LINQ Take(pageSize), negative as none. */
  readonly take: number
}

export type V1NewRequestParse = { readonly ok: true; readonly request: V1NewRequest } | { readonly ok: false; readonly reason: DeferReason }

// Canonical decimal with an optional minus sign: `+1`, `01`, `-0`, ` 1`, `0x1`, empty bind (or fail) in
// ASP.NET by rules the fast path does not re-implement; they are left to the legacy.
const CANONICAL_INT = /^(0|-?[1-9][0-9]{0,9})$/
const INT32_MIN = -2147483648
const INT32_MAX = 2147483647
// Names and values no URL-decoding could change: no %, no +, printable ASCII (so OrdinalIgnoreCase is an ASCII fold).
const PLAIN = /^[!$'()*,\-.\/0-9:;=?@A-Z\[\]^_`a-z{|}~]*$/
const PLUS_NAME = /^[!$'()*+,\-.\/0-9:;=?@A-Z\[\]^_`a-z{|}~]*$/
const KNOWN_NAMES = new Set(['page', 'pagesize', 'rezepttype'])
/** The v1 spellings (docs/legacy-contract.md §8): `P-Rezept` is no v1 type. */
const V1_NAMES: ReadonlyMap<string, PrescriptionType> = new Map(PRESCRIPTION_TYPES.map((t) => [t.name.replace('-', '').toLowerCase(), t]))

const QUERY: V1NewRequestParse = Object.freeze({ ok: false, reason: 'query' })
const PAGE_SIZE_LIMIT: V1NewRequestParse = Object.freeze({ ok: false, reason: 'page-size-limit' })
const METHOD: V1NewRequestParse = Object.freeze({ ok: false, reason: 'method' })
const TENANT_HEADER: V1NewRequestParse = Object.freeze({ ok: false, reason: 'tenant-header' })
const VERSION_HEADER: V1NewRequestParse = Object.freeze({ ok: false, reason: 'version-header' })
const NO_TYPES: readonly PrescriptionType[] = Object.freeze([])

export function readV1NewRequest(request: FastPathRequest, fastPathMaxPageSize: number): V1NewRequestParse {
  if (request.method !== 'GET') return METHOD
  // docs/legacy-contract.md §2: any X-Tenant-Id is the legacy's 500; §3: X-API-Version brings the versioning rules
  // (on /api/v1/… a `1.0` would be the same answer, anything else a 400: the legacy's to give either way).
  if (request.headers['x-tenant-id'] !== undefined) return TENANT_HEADER
  if (request.headers['x-api-version'] !== undefined) return VERSION_HEADER
  return parseV1NewRequest(request.rawUrl, fastPathMaxPageSize)
}

function typesFor(value: string | undefined): readonly PrescriptionType[] {
  if (value === undefined || value === '') return PRESCRIPTION_TYPES
  const type = V1_NAMES.get(value.toLowerCase())
  return type === undefined ? NO_TYPES : [type]
}

/**
 * `page`, `pageSize`, `rezeptType` from the raw query; each known name at most once, names and values
 * that no decoding could change, integers canonical within int32. Anything else defers.
 */
export function parseV1NewRequest(rawUrl: string, fastPathMaxPageSize: number): V1NewRequestParse {
  const q = rawUrl.indexOf('?')
  let pageText: string | undefined
  let pageSizeText: string | undefined
  let typeText: string | undefined
  if (q >= 0) {
    const query = rawUrl.slice(q + 1)
    if (query.includes('#')) return QUERY
    for (const part of query.split('&')) {
      if (part === '') continue
      const eq = part.indexOf('=')
      const name = eq < 0 ? part : part.slice(0, eq)
      const value = eq < 0 ? '' : part.slice(eq + 1)
      let folded = name.toLowerCase()
      if (!PLAIN.test(name)) {
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
        case 'rezepttype':
          if (typeText !== undefined || !PLAIN.test(value)) return QUERY
          typeText = value
          break
        default:
          // Unknown parameters (`type` included) are ignored by the legacy (docs/legacy-contract.md §3).
      }
    }
  }
  const page = pageText === undefined ? 1 : canonicalInt(pageText)
  const pageSize = pageSizeText === undefined ? 100 : canonicalInt(pageSizeText)
  if (page === undefined || pageSize === undefined) return QUERY
  // No clamp in v1: the page the answer holds is bounded here instead.
  if (pageSize > fastPathMaxPageSize) return PAGE_SIZE_LIMIT
  const skip = Math.max(0, Math.imul((page - 1) | 0, pageSize))
  return { ok: true, request: { types: typesFor(typeText), page, pageSize, skip, take: Math.max(0, pageSize) } }
}

function canonicalInt(text: string): number | undefined {
  if (!CANONICAL_INT.test(text)) return undefined
  const value = Number(text)
  return value < INT32_MIN || value > INT32_MAX ? undefined : value
}
