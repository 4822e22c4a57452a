// The contract between the proxy and a route's fast path: what a fast path is given, and the two
// things it may return — the legacy's exact answer, or a reason to let the legacy answer instead.
import type { IncomingHttpHeaders } from 'node:http'

export { ROUTE_IDS, type DeferReason, type RouteId } from '../core/route-ids.ts'
import type { DeferReason, RouteId } from '../core/route-ids.ts'

export interface FastPathRequest {
  readonly routeId: RouteId
  readonly method: string
  /** The request target exactly as received (path and query, undecoded). */
  readonly rawUrl: string
  readonly headers: IncomingHttpHeaders
  /**
   * The request body, complete, for a route that reads one (RouteSpec.body): the proxy buffered it
   * (bounded) and sends these same bytes to the legacy when the fast path defers. Undefined otherwise.
   */
  readonly body?: Buffer
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
