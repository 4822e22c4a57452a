// What ASP.NET Core does with a W3C `traceparent` (docs/legacy-contract.md §12.5): its hosting
// diagnostics start the request's Activity as the header's child, and every log line of the request
// carries TraceId, SpanId and ParentId in its scope. The simulator writes the one line per request
// that shows it, so a test (or an operator) can see the legacy joined the proxy's trace. Without a
// valid header nothing is written: the legacy's own Activity then starts a trace nobody else knows.

/** version-traceid-parentid-flags, lower-case hex, the all-zero ids invalid (W3C Trace Context §3.2). */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

export interface TraceScope {
  readonly traceId: string
  readonly parentId: string
  readonly sampled: boolean
}

export function traceScopeOf(header: string | string[] | undefined): TraceScope | undefined {
  if (typeof header !== 'string') return undefined
  const match = TRACEPARENT.exec(header.trim())
  if (match === null || match[1] === 'ff' || /^0+$/.test(match[2]!) || /^0+$/.test(match[3]!)) return undefined
  return { traceId: match[2]!, parentId: match[3]!, sampled: (parseInt(match[4]!, 16) & 1) === 1 }
}

/** The log line, in the shape of ASP.NET Core's JSON console formatter (path only: no query, no headers). */
export function requestStartingLine(scope: TraceScope, method: string, path: string): string {
  return JSON.stringify({
    Timestamp: new Date().toISOString(),
    EventId: 1,
    LogLevel: 'Information',
    Category: 'Microsoft.AspNetCore.Hosting.Diagnostics',
    Message: `Request starting HTTP/1.1 ${method} ${path}`,
    Scopes: [{ TraceId: scope.traceId, ParentId: scope.parentId, Sampled: scope.sampled }],
  })
}
