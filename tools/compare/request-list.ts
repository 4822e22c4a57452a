// The requests a compare run replays: a JSON file the operator gives, or the built-in ARZ polling mix
// (what ARZ systems send every few minutes: docs/legacy-contract.md §4 and §5 with the page sizes and type filters seen).
import { readFileSync } from 'node:fs'
import { matchRoute } from '../../routes/route-table.ts'

export interface ReplayRequest {
  /** Shown in reports: the request target, and the user when several users are replayed. */
  readonly label: string
  /** The route id the proxy matches it to, or the path for requests no fast path takes. */
  readonly route: string
  /** Request target: path and query. */
  readonly target: string
  /** `login:password` for HTTP Basic. */
  readonly user: string
  /** GET unless given: a read with a body, e.g. PATCH /v2/rezept/statusuuid. */
  readonly method?: string
  /** The body, sent as `application/json` exactly as given. */
  readonly body?: string
}

/** Polls of the new-prescriptions list and the pharmacy list, as ARZ clients send them. */
export const ARZ_POLLING_MIX: readonly string[] = [
  '/v2/rezept',
  '/v2/rezept?pageSize=10',
  '/v2/rezept?pageSize=50&type=eMuster16',
  '/v2/rezept?pageSize=100&type=E-Rezept',
  '/v2/rezept?type=P-Rezept&pageSize=200',
  '/v2/rezept?page=2&pageSize=50',
  '/v2/rezept?pageSize=500',
  '/v2/rezept/status?pageSize=50',
  '/v2/rezept/status?pharmacyId=123456789&type=eMuster16&pageSize=100',
]

/** The mix for each user (a user's password never reaches a label). */
export function pollingMix(users: readonly string[]): ReplayRequest[] {
  return users.flatMap((user) => ARZ_POLLING_MIX.map((target) => replayRequest(target, user, users.length > 1)))
}

/**
 * A request file: `{"requests":[{"target":"/v2/rezept?pageSize=10","user":"login:password"}, ...]}`
 * or the bare array; entries may also be plain target strings. `user` defaults to `defaultUser`.
 * A read with a body: `{"method":"PATCH","target":"/v2/rezept/statusuuid","body":{"rezeptUuids":["…"]}}`
 * (`body` a JSON value, sent as its JSON text, or a string sent as it is). Only reads: a compare
 * run sends every request several times.
 */
export function readRequestFile(file: string, defaultUser: string | undefined): ReplayRequest[] {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown
  const entries = Array.isArray(parsed) ? parsed : (parsed as { requests?: unknown }).requests
  if (!Array.isArray(entries) || entries.length === 0) throw new Error(`${file}: expected {"requests":[...]} or an array with at least one request`)
  const requests = entries.map((entry, i) => {
    const target = typeof entry === 'string' ? entry : (entry as { target?: unknown; path?: unknown }).target ?? (entry as { path?: unknown }).path
    const user = typeof entry === 'object' && entry !== null && typeof (entry as { user?: unknown }).user === 'string' ? (entry as { user: string }).user : defaultUser
    if (typeof target !== 'string' || !target.startsWith('/')) throw new Error(`${file}: request ${i} needs a "target" starting with /`)
    if (user === undefined || !user.includes(':')) throw new Error(`${file}: request ${i} needs a "user" (login:password) or --user`)
    const { method, body } = typeof entry === 'object' && entry !== null ? entry as { method?: unknown; body?: unknown } : {}
    if (method !== undefined && method !== 'GET' && !(method === 'PATCH' && matchRoute('PATCH', target) !== null)) {
      throw new Error(`${file}: request ${i}: only GETs and the PATCH reads of the route table are replayed, got ${JSON.stringify(method)} ${target}`)
    }
    const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
    return { target, user, ...(method === undefined ? {} : { method }), ...(text === undefined ? {} : { body: text }) }
  })
  const several = new Set(requests.map((r) => r.user)).size > 1
  return requests.map((r) => replayRequest(r.target, r.user, several, r.method, r.body))
}

function replayRequest(target: string, user: string, showUser: boolean, method?: string, body?: string): ReplayRequest {
  const login = user.slice(0, user.indexOf(':'))
  const shown = method === undefined || method === 'GET' ? target : `${method} ${target}`
  return {
    label: showUser ? `${login} ${shown}` : shown,
    route: matchRoute(method ?? 'GET', target)?.id ?? target.split('?')[0]!,
    target,
    user,
    ...(method === undefined ? {} : { method }),
    ...(body === undefined ? {} : { body }),
  }
}
