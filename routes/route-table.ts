// The table of routes a fast path may take, and the matcher that applies the legacy's routing rules
// (docs/legacy-contract.md §3: case-insensitive, `v2` or `v2.0` (`v1`, `v1.0` for §8), trailing slash ignored) to a raw request target.
// `/api/Prescriptions/new` (no version segment) is not in the table: the legacy answers it only with an
// X-API-Version header, which the fast paths leave to the legacy anyway.
// Anything odd — %-encoding, `//`, dot segments, `;`, a backslash — is not matched and goes to the legacy.
import type { RouteId } from './contract.ts'

export interface RouteSpec {
  readonly id: RouteId
  readonly method: 'GET' | 'PATCH'
  /**
   * The route reads a request body: the proxy buffers one of at most this many bytes (announced by
   * Content-Length) for the fast path and replays it to the legacy when the fast path defers.
   */
  readonly maxBodyBytes?: number
  /** Canonical path, lower case, with its version segment `/v<major>/` in the short form. */
  readonly path: string
}

export const ROUTES: readonly RouteSpec[] = [
  { id: 'v2.rezept.list', method: 'GET', path: '/v2/rezept' },
  { id: 'v2.rezept.pharmacy', method: 'GET', path: '/v2/rezept/status' },
  { id: 'v1.prescriptions.new', method: 'GET', path: '/api/v1/prescriptions/new' },
  // 1001 uuids of 36 characters are ~40 KB; a body several times that is not a client's.
  { id: 'v2.rezept.statusuuid', method: 'PATCH', path: '/v2/rezept/statusuuid', maxBodyBytes: 256 * 1024 },
]

// The version segment's short and `.0` forms (`v2`, `v2.0`); rarer spellings the legacy also takes
// (`v02`, `v2.00`) are left to it.
const VERSION_SEGMENT = /\/v(\d+)\//

/** `METHOD path` for every accepted spelling (after lower-casing and dropping one trailing slash) → route, built once. */
const BY_PATH: ReadonlyMap<string, RouteSpec> = new Map(
  ROUTES.flatMap((route) => [
    [`${route.method} ${route.path}`, route],
    [`${route.method} ${route.path.replace(VERSION_SEGMENT, '/v$1.0/')}`, route],
  ]),
)
const METHODS: ReadonlySet<string> = new Set(ROUTES.map((route) => route.method))

const SLASH = 0x2f
const DOT = 0x2e

/**
 * The route a request may take, or null when it must pass through. `rawUrl` is the request target
 * exactly as received.
 */
export function matchRoute(method: string | undefined, rawUrl: string | undefined): RouteSpec | null {
  if (method === undefined || !METHODS.has(method) || rawUrl === undefined) return null
  const q = rawUrl.indexOf('?')
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q)
  if (path.length === 0 || path.charCodeAt(0) !== SLASH || !isPlainPath(path)) return null
  const trimmed = path.length > 1 && path.charCodeAt(path.length - 1) === SLASH ? path.slice(0, -1) : path
  return BY_PATH.get(`${method} ${trimmed.toLowerCase()}`) ?? null
}

/** No `%`, `;`, `\`, control or non-ASCII byte, no empty segment (`//`) and no `.`/`..` segment. */
function isPlainPath(path: string): boolean {
  let segmentStart = 1
  for (let i = 1; i <= path.length; i++) {
    const c = i < path.length ? path.charCodeAt(i) : SLASH
    if (c === SLASH) {
      const length = i - segmentStart
      if (length === 0 && i < path.length) return false // `//`
      if (length === 1 && path.charCodeAt(segmentStart) === DOT) return false
      if (length === 2 && path.charCodeAt(segmentStart) === DOT && path.charCodeAt(segmentStart + 1) === DOT) return false
      segmentStart = i + 1
      continue
    }
    if (c === 0x25 /* % */ || c === 0x3b /* ; */ || c === 0x5c /* \ */ || c <= 0x20 || c >= 0x7f) return false
  }
  return true
}
