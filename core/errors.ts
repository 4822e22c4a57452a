// The catalogue of errors the proxy itself answers with: a stable code, the HTTP status it becomes,
// and a message for the operator. Bodies follow the legacy's plain-text style (docs/legacy-contract.md §3).
import type { IncomingHttpHeaders, ServerResponse } from 'node:http'

export interface ProxyErrorSpec {
  readonly status: number
  /** Sent to the client (plain text, or a JSON string when Accept asks for JSON). */
  readonly clientText: string
  /** For the operator, in the log line. */
  readonly operatorMessage: string
}

export const PROXY_ERRORS = {
  UPSTREAM_UNREACHABLE: {
    status: 502,
    clientText: 'Bad Gateway: the ArzTi service is not reachable',
    operatorMessage: 'Connecting to the legacy failed (refused, reset or DNS). Check LEGACY_URL and that ArzTi3Server is running.',
  },
  UPSTREAM_CONNECT_TIMEOUT: {
    status: 502,
    clientText: 'Bad Gateway: the ArzTi service did not accept the connection in time',
    operatorMessage: 'No TCP connection to the legacy within upstream.connectTimeoutMs. Check the network path and the legacy host.',
  },
  UPSTREAM_TLS_FAILED: {
    status: 502,
    clientText: 'Bad Gateway: the ArzTi service could not be verified',
    operatorMessage: 'The TLS handshake with an https: LEGACY_URL failed: its certificate is not signed by a CA in upstream.caFile (or the built-in CAs), names another host, or has expired. The request was not sent.',
  },
  UPSTREAM_HEADERS_TIMEOUT: {
    status: 504,
    clientText: 'Gateway Timeout: the ArzTi service did not answer in time',
    operatorMessage: 'The legacy sent no status line within upstream.headersTimeoutMs. It is overloaded or hanging; raise the timeout only if slow answers are expected.',
  },
  UPSTREAM_BODY_TIMEOUT: {
    status: 504,
    clientText: 'Gateway Timeout: the ArzTi service stopped sending its answer',
    operatorMessage: 'The legacy went silent mid-body for upstream.bodyTimeoutMs; the client connection was cut because its status had already been sent.',
  },
  UPSTREAM_RESET: {
    status: 502,
    clientText: 'Bad Gateway: the ArzTi service closed the connection',
    operatorMessage: 'The legacy closed or reset the connection before answering completely.',
  },
  UPSTREAM_BUSY: {
    status: 503,
    clientText: 'Service Unavailable: the ArzTi service is busy, retry after the time given in Retry-After',
    operatorMessage: 'Every connection to the legacy was taken for upstream.queueTimeoutMs, or this client address already had upstream.maxPerClient requests there. Sustained: raise upstream.maxSockets if the legacy can take it, or look for one address holding many slow requests.',
  },
  REQUEST_BODY_TIMEOUT: {
    status: 408,
    clientText: 'Request Timeout: the request body was sent too slowly',
    operatorMessage: 'A request body for the legacy arrived slower than limits.bodyMinBytesPerSecond or was not complete within limits.bodyTimeoutMs; its connections were closed so it holds no legacy connection.',
  },
  RATE_LIMITED: {
    status: 429,
    clientText: 'Too Many Requests: retry after the time given in Retry-After',
    operatorMessage: 'A user, tenant, login or client address is over its request rate (limits.*); see the audit log for which.',
  },
  AUTH_THROTTLED: {
    status: 429,
    clientText: 'Too Many Requests: too many failed logins, retry after the time given in Retry-After',
    operatorMessage: 'A login or client address failed authentication limits.authFailures.maxFailures times; it is refused until the block ends.',
  },
  REQUEST_TOO_LARGE: {
    status: 413,
    clientText: 'Payload Too Large',
    operatorMessage: 'The request body is over limits.maxBodyBytes (Kestrel refuses the same size); a real client never sends this much.',
  },
  BAD_REQUEST_TARGET: {
    status: 400,
    clientText: 'Bad Request',
    operatorMessage: 'The request target was not an absolute path (asterisk- or absolute-form); the proxy cannot pass it on unchanged, and no ArzTi client sends one.',
  },
  ADMIN_TOKEN_REQUIRED: {
    status: 409,
    clientText: 'Conflict: the new configuration has no admin token, and the admin listener is bound to a non-loopback address',
    operatorMessage: 'A reload would have left the admin API open without a token on the address it was bound to with one (the bind cannot change on reload). The reload was refused and the running configuration stays: put FASTPATH_ADMIN_TOKEN back, or restart to move the admin listener to loopback.',
  },
  SHUTTING_DOWN: {
    status: 503,
    clientText: 'Service Unavailable: the proxy is restarting',
    operatorMessage: 'A request arrived after SIGTERM on a kept-alive connection; the client should retry.',
  },
} as const satisfies Record<string, ProxyErrorSpec>

export type ProxyErrorCode = keyof typeof PROXY_ERRORS

/** An error the proxy raises from its catalogue (not from a request): carries the code to branch on. */
export class ProxyError extends Error {
  readonly code: ProxyErrorCode
  constructor(code: ProxyErrorCode) {
    super(PROXY_ERRORS[code].operatorMessage)
    this.code = code
  }
}

/** Precomputed bodies: the plain text and the same text as a JSON string (docs/legacy-contract.md §3). */
const BODIES = Object.fromEntries(
  Object.entries(PROXY_ERRORS).map(([code, spec]) => [
    code,
    { text: Buffer.from(spec.clientText, 'utf8'), json: Buffer.from(JSON.stringify(spec.clientText), 'utf8') },
  ]),
) as Record<ProxyErrorCode, { text: Buffer; json: Buffer }>

export function wantsJson(headers: IncomingHttpHeaders): boolean {
  const accept = headers.accept
  return accept !== undefined && accept.toLowerCase().includes('application/json')
}

/** Answers the client with the error, unless an answer has already begun (then the socket is cut). */
export function sendProxyError(res: ServerResponse, code: ProxyErrorCode, json: boolean, extraHeaders?: Record<string, string | number>): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const body = json ? BODIES[code].json : BODIES[code].text
  const headers: Record<string, string | number> = {
    'Content-Type': json ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8',
    'Content-Length': body.length,
    'X-Fastpath-Error': code,
    ...extraHeaders,
  }
  res.writeHead(PROXY_ERRORS[code].status, headers)
  res.end(res.req?.method === 'HEAD' ? undefined : body)
}
