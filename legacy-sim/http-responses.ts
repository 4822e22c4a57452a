// The response shapes ASP.NET Core 8 (Kestrel) gives the legacy's answers: JSON, plain text, problem details, empty statuses.
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { jsonString } from './json-text.ts'

const JSON_TYPE = 'application/json; charset=utf-8'
const TEXT_TYPE = 'text/plain; charset=utf-8'
const PROBLEM_TYPE = 'application/problem+json; charset=utf-8'
// docs/legacy-contract.md §2: the challenge every failed authentication carries.
const BASIC_CHALLENGE = 'Basic realm="ArzTi3 API", charset="UTF-8"'

// Kestrel writes MVC results through the body stream without a length, so they go out chunked.
function writeChunked(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.statusCode = status
  res.setHeader('Content-Type', contentType)
  res.setHeader('Server', 'Kestrel')
  res.write(body)
  res.end()
}

export function sendJson(res: ServerResponse, status: number, body: string): void {
  writeChunked(res, status, JSON_TYPE, body)
}

/** A status with no body (Content-Length: 0), as Kestrel sends 401, 404, 405 and unhandled 500s. */
export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.statusCode = status
  res.setHeader('Server', 'Kestrel')
  if (status !== 204) res.setHeader('Content-Length', '0')
  for (const name in headers) res.setHeader(name, headers[name]!)
  res.end()
}

export function sendUnauthorized(res: ServerResponse): void {
  sendEmpty(res, 401, { 'WWW-Authenticate': BASIC_CHALLENGE })
}

/**
 * `StatusCode(n, "text")` / `BadRequest("text")` (docs/legacy-contract.md §3): plain text, or the same text as a JSON
 * string when content negotiation picks the JSON formatter (Accept names JSON and not `*\/*`).
 */
export function sendText(req: IncomingMessage, res: ServerResponse, status: number, text: string): void {
  if (acceptsJsonOverText(req.headers.accept)) writeChunked(res, status, JSON_TYPE, jsonString(text))
  else writeChunked(res, status, TEXT_TYPE, text)
}

function acceptsJsonOverText(accept: string | undefined): boolean {
  if (accept === undefined) return false
  let json = false
  for (const range of accept.split(',')) {
    const type = range.split(';')[0]!.trim().toLowerCase()
    // MVC ignores an Accept header holding */* (RespectBrowserAcceptHeader is false): first formatter wins.
    if (type === '*/*') return false
    if (type === 'text/plain' || type === 'text/*') return false
    if (type === 'application/json' || type === 'text/json' || type === 'application/*' || type.endsWith('+json')) json = true
  }
  return json
}

/** A W3C trace id as ASP.NET Core puts it in problem details: 00-<trace>-<span>-00. */
export function newTraceId(): string {
  const bytes = randomBytes(24).toString('hex')
  return `00-${bytes.slice(0, 32)}-${bytes.slice(32, 48)}-00`
}

/** [ApiController]'s automatic 400: `errors` maps each field to its messages, in binding order. */
export function sendValidationProblem(res: ServerResponse, errors: ReadonlyArray<readonly [string, string]>): void {
  const grouped = new Map<string, string[]>()
  for (const [field, message] of errors) {
    const list = grouped.get(field)
    if (list === undefined) grouped.set(field, [message])
    else list.push(message)
  }
  let errorsJson = ''
  for (const [field, messages] of grouped) {
    if (errorsJson !== '') errorsJson += ','
    errorsJson += jsonString(field) + ':[' + messages.map(jsonString).join(',') + ']'
  }
  writeChunked(res, 400, PROBLEM_TYPE,
    '{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"One or more validation errors occurred.","status":400,' +
    '"errors":{' + errorsJson + '},"traceId":' + jsonString(newTraceId()) + '}')
}

/** [ApiController]'s 415 when a [FromBody] action gets a body that is not JSON. */
export function sendUnsupportedMediaType(res: ServerResponse): void {
  writeChunked(res, 415, PROBLEM_TYPE,
    '{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.16","title":"Unsupported Media Type","status":415,"traceId":' +
    jsonString(newTraceId()) + '}')
}
