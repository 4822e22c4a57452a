// The case table of PATCH /v2/rezept/statusuuid: bodies built from the uuids a seeded world holds
// (inside and outside the 1000-window, not new at all, unknown), sent to the legacy (simulator) and
// to the fast path; both must agree byte for byte (timestamps and trace ids blanked) or the fast
// path must defer with the named reason.
import { request } from 'node:http'
import type { DeferReason } from '../../../routes/contract.ts'
import { CASE_USERS, basicAuthorization, type CaseUser } from '../v2-rezept-list/cases.ts'
import { blankVolatile, type Exchange } from '../v2-rezept-list/comparison-fixture.ts'

export const STATUS_PATH = '/v2/rezept/statusuuid'

export interface StatusCase {
  readonly name: string
  readonly rawUrl: string
  readonly user: CaseUser | null
  /** Sent as given; `authorization` from `user`, `content-type` application/json unless given. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: Buffer
  /** 'same': the legacy's bytes. Otherwise the fast path defers for this reason. */
  readonly expect: 'same' | DeferReason
  /** The legacy's status, where the case is about it. */
  readonly legacyStatus?: number
}

/** The uuids of one user's tenant, read through the legacy's own list route. */
export interface UuidPools {
  /** Items of the window (page 1 × 1000 of each type), each type's first ones. */
  readonly inside: Readonly<Record<'eMuster16' | 'P-Rezept' | 'E-Rezept', readonly string[]>>
  /** New prescriptions beyond the window (position ≥ 1000 of their type); empty for small tenants. */
  readonly outside: readonly string[]
  /** Prescriptions that are not new (transferred or billed). */
  readonly old: readonly string[]
}

export function headersFor(c: StatusCase): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (c.user !== null) headers.authorization = basicAuthorization(CASE_USERS[c.user].login, CASE_USERS[c.user].password)
  for (const [name, value] of Object.entries(c.headers)) {
    if (value === '') delete headers[name.toLowerCase()]
    else headers[name.toLowerCase()] = value
  }
  return headers
}

/** One request with the target and body exactly as given, and the body's own Content-Length. */
export function sendWithBody(port: number, method: string, rawUrl: string, headers: Record<string, string>, body: Buffer): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: rawUrl, headers: { ...headers, 'content-length': body.length }, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

const TRACE_ID = /"traceId":"00-[0-9a-f]{32}-[0-9a-f]{16}-00"/g

/** blankVolatile, and the problem details' trace id. */
export function blankStatusBody(body: Buffer): { text: string; malformed: string[] } {
  const blanked = blankVolatile(body)
  return { text: blanked.text.replace(TRACE_ID, '"traceId":"~"'), malformed: blanked.malformed }
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8')
const list = (uuids: readonly string[]): Buffer => json({ rezeptUuids: uuids })

/** A deterministic pseudo-random order (the cases must be the same on every run). */
function mixed<T>(values: readonly T[], seed: number): T[] {
  const out = [...values]
  let state = seed
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) & 0x7fffffff
    const j = state % (i + 1)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

export function buildStatusCases(pools: Readonly<Record<CaseUser, UuidPools>>): StatusCase[] {
  const cases: StatusCase[] = []
  const same = (name: string, user: CaseUser | null, body: Buffer, extra: Partial<StatusCase> = {}) =>
    cases.push({ name, rawUrl: STATUS_PATH, user, headers: {}, body, expect: 'same', ...extra })
  const deferred = (name: string, reason: DeferReason, body: Buffer, extra: Partial<StatusCase> = {}) =>
    cases.push({ name, rawUrl: STATUS_PATH, user: 'klein', headers: {}, body, expect: reason, ...extra })

  for (const user of ['gross', 'klein', 'leer'] as const) {
    const p = pools[user]
    const all = [...p.inside.eMuster16, ...p.inside['P-Rezept'], ...p.inside['E-Rezept']]
    const some = all.length >= 2 ? all.slice(0, 2) : ['none-1', 'none-2']
    const unknown = ['no-such-uuid', '00000000-0000-0000-0000-000000000000', '', ' ', 'x'.repeat(300), 'ümlaut-<&>-"quoted"', 'tab\there', '\u2028', '😀']
    // One of each pool, alone.
    for (const [type, uuids] of Object.entries(p.inside)) {
      uuids.slice(0, 4).forEach((uuid, i) => same(`${user}: one ${type} uuid #${i}`, user, list([uuid])))
    }
    p.outside.slice(0, 3).forEach((uuid, i) => same(`${user}: a new uuid outside the window #${i}`, user, list([uuid])))
    p.old.slice(0, 3).forEach((uuid, i) => same(`${user}: a uuid that is not new #${i}`, user, list([uuid])))
    unknown.forEach((uuid, i) => same(`${user}: an unknown uuid #${i}`, user, list([uuid])))
    // Several, found, in another order than the window's.
    same(`${user}: all types reversed`, user, list([...all].reverse()))
    same(`${user}: all types mixed`, user, list(mixed(all, 7)))
    same(`${user}: found with duplicates`, user, list([...all.slice(0, 3), ...all.slice(0, 3), all[0] ?? 'none']))
    same(`${user}: found, missing, outside and old mixed`, user, list(mixed([...all.slice(0, 5), ...p.outside.slice(0, 3), ...p.old.slice(0, 3), 'no-such-uuid', 'no-such-uuid', 'other'], 11)))
    same(`${user}: missing duplicates only`, user, list(['a', 'b', 'a', 'c', 'b', 'a']))
    same(`${user}: the recorded shape, 7 with one duplicate`, user, list(['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u1']))
    same(`${user}: exactly 1000 entries`, user, list(Array.from({ length: 1000 }, (_, i) => all[i % Math.max(all.length, 1)] ?? `m${i}`)))
    same(`${user}: exactly 1000 distinct missing`, user, list(Array.from({ length: 1000 }, (_, i) => `missing-${i}`)))
    same(`${user}: 1001 entries`, user, list(Array.from({ length: 1001 }, (_, i) => `x${i}`)), { legacyStatus: 400 })
    same(`${user}: 5000 entries`, user, list(Array.from({ length: 5000 }, (_, i) => `x${i}`)), { legacyStatus: 400 })
    same(`${user}: an empty list`, user, list([]), { legacyStatus: 400 })
    same(`${user}: {}`, user, json({}), { legacyStatus: 400 })
    same(`${user}: a null list`, user, json({ rezeptUuids: null }), { legacyStatus: 400 })
    same(`${user}: PascalCase name`, user, Buffer.from(`{"RezeptUuids":${JSON.stringify(some)}}`))
    same(`${user}: upper-case name`, user, Buffer.from(`{"REZEPTUUIDS":${JSON.stringify(some)}}`))
    same(`${user}: blanks and line breaks everywhere`, user, Buffer.from(` \r\n{ "rezeptUuids" :\t[ ${all.slice(0, 3).map((u) => JSON.stringify(u)).join(' ,\n ')} ] }\n `))
    same(`${user}: escaped characters in a uuid`, user, Buffer.from(`{"rezeptUuids":["\\u0061bc","a\\/b","\\"","\\\\"]}`))
    same(`${user}: the list route's trailing slash`, user, list(some), { rawUrl: '/v2/rezept/statusuuid/' })
    same(`${user}: v2.0`, user, list(some), { rawUrl: '/v2.0/rezept/statusuuid' })
    same(`${user}: upper-case path`, user, list(some), { rawUrl: '/V2/REZEPT/StatusUuid' })
    same(`${user}: Accept */* on a 400`, user, list([]), { headers: { accept: '*/*' }, legacyStatus: 400 })
    same(`${user}: Accept text/plain on a 200`, user, list(some), { headers: { accept: 'text/plain' } })
    same(`${user}: Accept application/json on a 200`, user, list(some), { headers: { accept: 'application/json' } })
  }

  // What the fast path leaves to the legacy.
  deferred('not JSON', 'body', Buffer.from('not json'), { legacyStatus: 400 })
  deferred('a JSON null body', 'body', Buffer.from('null'), { legacyStatus: 400 })
  deferred('a JSON array body', 'body', Buffer.from('[]'), { legacyStatus: 400 })
  deferred('an empty body', 'body', Buffer.alloc(0), { legacyStatus: 400 })
  deferred('numbers as items', 'body', Buffer.from('{"rezeptUuids":[1,2]}'), { legacyStatus: 400 })
  deferred('a null item', 'body', Buffer.from('{"rezeptUuids":[null,"a"]}'))
  deferred('a string instead of a list', 'body', Buffer.from('{"rezeptUuids":"a"}'), { legacyStatus: 400 })
  deferred('an unknown property beside', 'body', Buffer.from('{"rezeptUuids":["a"],"x":1}'))
  deferred('the property twice', 'body', Buffer.from('{"rezeptUuids":["a"],"rezeptUuids":["b"]}'))
  deferred('only an unknown property', 'body', Buffer.from('{"x":1}'))
  deferred('a trailing comma', 'body', Buffer.from('{"rezeptUuids":["a",]}'), { legacyStatus: 400 })
  deferred('a comment', 'body', Buffer.from('{"rezeptUuids":["a"]/* c */}'), { legacyStatus: 400 })
  deferred('a BOM', 'body', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), list(['a'])]))
  deferred('invalid UTF-8', 'body', Buffer.from([0x7b, 0x22, 0x72, 0xff, 0x22, 0x7d]))
  deferred('a lone surrogate', 'body', Buffer.from('{"rezeptUuids":["\\ud800"]}'))
  deferred('an escaped property name', 'body', Buffer.from('{"\\u0072ezeptUuids":["a"]}'))
  deferred('two documents', 'body', Buffer.from('{"rezeptUuids":["a"]}{}'), { legacyStatus: 400 })
  deferred('a raw tab in a string', 'body', Buffer.from('{"rezeptUuids":["a\tb"]}'), { legacyStatus: 400 })
  deferred('text/plain', 'body', list(['a']), { headers: { 'content-type': 'text/plain' }, legacyStatus: 415 })
  deferred('no Content-Type', 'body', list(['a']), { headers: { 'content-type': '' }, legacyStatus: 415 })
  deferred('a charset parameter', 'body', list(['a']), { headers: { 'content-type': 'application/json; charset=utf-8' } })
  deferred('upper-case media type', 'body', list(['a']), { headers: { 'content-type': 'Application/JSON' } })
  deferred('text/json', 'body', list(['a']), { headers: { 'content-type': 'text/json' } })
  deferred('application/problem+json', 'body', list(['a']), { headers: { 'content-type': 'application/problem+json' } })
  deferred('X-Tenant-Id', 'tenant-header', list(['a']), { headers: { 'x-tenant-id': 't' }, legacyStatus: 500 })
  deferred('X-API-Version', 'version-header', list(['a']), { headers: { 'x-api-version': '2.0' } })
  deferred('a query string', 'query', list(['a']), { rawUrl: `${STATUS_PATH}?x=1` })
  deferred('Accept application/json on a 400', 'accept', list([]), { headers: { accept: 'application/json' }, legacyStatus: 400 })
  deferred('Accept text/json on a 1001', 'accept', list(Array.from({ length: 1001 }, (_, i) => `x${i}`)), { headers: { accept: 'text/json' }, legacyStatus: 400 })
  deferred('Accept text/plain on a null list', 'accept', json({ rezeptUuids: null }), { headers: { accept: 'text/plain' }, legacyStatus: 400 })
  deferred('Content-Encoding', 'body', list(['a']), { headers: { 'content-encoding': 'identity' } })
  deferred('no credentials', 'auth-unparsable', list(['a']), { user: null, legacyStatus: 401 })
  deferred('no credentials and {}', 'auth-unparsable', json({}), { user: null, legacyStatus: 401 })
  deferred('a wrong password', 'auth-wrong-password', list(['a']), { headers: { authorization: basicAuthorization('arz-klein', 'falsch') }, legacyStatus: 401 })
  deferred('an unknown user and an empty list', 'auth-unknown-user', list([]), { headers: { authorization: basicAuthorization('niemand', 'x') }, legacyStatus: 401 })
  return cases
}
