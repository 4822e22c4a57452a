// The contract between the proxy and a route's fast path: what a fast path is given, and the two
// things it may return — the legacy's exact answer, or a reason to let the legacy answer instead.
import type { IncomingHttpHeaders } from 'node:http'

/** Ids of the routes a fast path may take (DEVELOPERS.md: keep stable). */
export type RouteId = 'v2.rezept.list' | 'v2.rezept.pharmacy'
export const ROUTE_IDS: readonly RouteId[] = ['v2.rezept.list', 'v2.rezept.pharmacy']

/** Why a fast path handed a request to the legacy. A closed set so metrics labels stay bounded. */
export type DeferReason =
  | 'method'              // not a GET
  | 'tenant-header'       // X-Tenant-Id present: the legacy answers 500 (docs/legacy-contract.md §2)
  | 'version-header'      // X-API-Version present: the legacy's versioning rules decide (§3)
  | 'query'               // a parameter the fast path does not fully understand (repeated, non-canonical, out of bounds)
  | 'page-size-limit'     // pageSize above the fast path's configured limit
  | 'auth-unparsable'     // Authorization header missing or not the legacy's Basic form
  | 'ambiguous-credentials' // two Authorization lines, or a comma list in one: the legacy joins and refuses them (issue 26)
  | 'auth-unknown-user'
  | 'auth-wrong-password'
  | 'auth-unavailable'    // ArzSw could not be asked
  | 'auth-busy'           // no BCrypt thread within the queue's bounds (issue 16): the legacy checks the password
  | 'tenant-unusable'     // connection string the fast path cannot turn into a pool
  | 'db-error'
  | 'db-timeout'
  | 'pool-busy'           // no connection within the acquire timeout
  | 'circuit-open'        // the tenant's database failed recently; not tried for a while
  | 'shed'                // over a concurrency cap

export interface FastPathRequest {
  readonly routeId: RouteId
  readonly method: string
  /** The request target exactly as received (path and query, undecoded). */
  readonly rawUrl: string
  readonly headers: IncomingHttpHeaders
}

export interface FastAnswer {
  readonly kind: 'answer'
  readonly status: number
  readonly contentType: string
  readonly body: Buffer
  /** Which path produced the bytes, for Server-Timing and metrics. */
  readonly servedBy: 'fast' | 'cache'
  /**
   * Called by the server once `body` has been written to the client and nothing else keeps it:
   * the fast path may reuse its memory. Not called when the answer is kept (a sampled comparison).
   */
  readonly release?: () => void
}

export interface Deferral {
  readonly kind: 'defer'
  readonly reason: DeferReason
  /** Set when the deferral is a fallback after a failure (db-error, db-timeout, ...). */
  readonly error?: Error
}

export type FastPathOutcome = FastAnswer | Deferral

export interface FastPath {
  readonly routeId: RouteId
  /** Never throws: every failure becomes a Deferral. `signal` aborts when the client goes away. */
  handle(request: FastPathRequest, signal: AbortSignal): Promise<FastPathOutcome>
}

export function defer(reason: DeferReason, error?: Error): Deferral {
  return error ? { kind: 'defer', reason, error } : { kind: 'defer', reason }
}
