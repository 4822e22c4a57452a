// The case table of GET /v2/rezept and /v2/rezept/status: every request is sent to the legacy (simulator) and to the fast path, and
// the two must agree byte for byte or the fast path must defer with the named reason. Exported for the proxy's own run (route off / on).
import type { DeferReason, RouteId } from '../../../routes/contract.ts'

export type CaseUser = 'gross' | 'klein' | 'leer'

/** The seeder's users (sql/seed/tenants.ts). */
export const CASE_USERS: Readonly<Record<CaseUser, { login: string; password: string }>> = Object.freeze({
  gross: { login: 'arz-gross', password: 'gross-Geheim1' },
  klein: { login: 'arz-klein', password: 'klein-Geheim2' },
  leer: { login: 'arz-leer', password: 'leer-Geheim3' },
})

/** Settings both sides run with for this table. */
export const CASE_SETTINGS = Object.freeze({ maxPageSize: 500, environment: 'Test' })

export interface FastPathCase {
  readonly name: string
  readonly routeId: RouteId
  readonly method: string
  /** Request target as sent, undecoded. */
  readonly rawUrl: string
  /** Header values as sent; `authorization` is filled from `user` unless given here. */
  readonly headers: Readonly<Record<string, string>>
  readonly user: CaseUser | null
  /** 'same': the fast path answers with the legacy's bytes. Otherwise it defers for this reason. */
  readonly expect: 'same' | DeferReason
  /** The legacy's status, where the case is about it. */
  readonly legacyStatus?: number
}

export function basicAuthorization(login: string, password: string, scheme = 'Basic'): string {
  return `${scheme} ${Buffer.from(`${login}:${password}`, 'utf8').toString('base64')}`
}

export function authorizationFor(c: FastPathCase): Record<string, string> {
  const headers: Record<string, string> = {}
  if (c.user !== null) headers.authorization = basicAuthorization(CASE_USERS[c.user].login, CASE_USERS[c.user].password)
  for (const [name, value] of Object.entries(c.headers)) headers[name.toLowerCase()] = value
  return headers
}

const LIST: RouteId = 'v2.rezept.list'
const PHARMACY: RouteId = 'v2.rezept.pharmacy'
const PATHS: Partial<Record<RouteId, string>> = { 'v2.rezept.list': '/v2/rezept', 'v2.rezept.pharmacy': '/v2/rezept/status' }

function same(name: string, routeId: RouteId, query: string, user: CaseUser | null = 'klein', extra: Partial<FastPathCase> = {}): FastPathCase {
  return { name, routeId, method: 'GET', rawUrl: PATHS[routeId] + query, headers: {}, user, expect: 'same', ...extra }
}

function deferred(name: string, reason: DeferReason, query: string, extra: Partial<FastPathCase> = {}): FastPathCase {
  return { name, routeId: LIST, method: 'GET', rawUrl: PATHS[LIST] + query, headers: {}, user: 'klein', expect: reason, ...extra }
}

const TYPE_VALUES = ['', '?type=eMuster16', '?type=P-Rezept', '?type=E-Rezept', '?type=emuster16', '?type=E-REZEPT', '?type=p-rezept',
  '?type=', '?type=unbekannt', '?type=eMuster16x', '?type=E-Rezept.', '?type']

function buildCases(): FastPathCase[] {
  const cases: FastPathCase[] = []
  // Every user, every type spelling, both routes.
  for (const user of ['gross', 'klein', 'leer'] as const) {
    for (const routeId of [LIST, PHARMACY]) {
      for (const query of TYPE_VALUES) {
        if (user === 'leer' && routeId === PHARMACY && query !== '') continue // BCrypt cost 12: keep the leer cases few
        cases.push(same(`${user} ${routeId} ${query || 'without query'}`, routeId, query, user))
      }
    }
  }
  // Page sizes around the clamp and pages around the ends, all types and one type.
  for (const user of ['gross', 'klein'] as const) {
    for (const size of ['0', '1', '5', '7', '37', '100', '499', '500', '501', '1000', '2147483647']) {
      for (const page of ['1', '2', '3']) {
        cases.push(same(`${user} page ${page} pageSize ${size}`, LIST, `?page=${page}&pageSize=${size}`, user))
      }
    }
    for (const type of ['eMuster16', 'P-Rezept', 'E-Rezept']) {
      for (const page of ['1', '2', '3', '4', '5', '6']) {
        cases.push(same(`${user} ${type} page ${page} of 7`, LIST, `?type=${type}&page=${page}&pageSize=7`, user))
      }
    }
  }
  // Deep pages: empty lists, hasNextPage from 32-bit products that still fit.
  for (const [page, size] of [['1000', '100'], ['4294967', '500'], ['2147483647', '1'], ['2147483647', '0'], ['1073741823', '2'], ['50', '2'], ['4', '33']]) {
    cases.push(same(`deep page ${page} pageSize ${size}`, LIST, `?page=${page}&pageSize=${size}`, 'klein'))
    cases.push(same(`deep page ${page} pageSize ${size} on /status`, PHARMACY, `?page=${page}&pageSize=${size}&pharmacyId=123`, 'klein'))
  }
  cases.push(same('the empty tenant on a deep page', LIST, '?page=9&pageSize=500', 'leer'))
  // Names are case-insensitive; unknown parameters and their values are ignored; empty pieces too.
  const nameForms: Array<[string, string]> = [
    ['upper-case names', '?PAGE=2&PAGESIZE=5&TYPE=eMuster16'], ['mixed-case names', '?Page=1&PageSize=3&Type=e-rezept'],
    ['unknown parameters ignored', '?foo=bar&page=2&pageSize=4&x=%ZZ'], ['empty pieces ignored', '?&&page=2&&pageSize=6&'],
    ['pharmacyId on the list route is just unknown', '?pharmacyId=1&pharmacyId=2&pageSize=3'],
    ['a bare question mark', '?'], ['unknown repeated parameter', '?a=1&a=2&pageSize=2'],
    // Recorded on the real legacy: only one ? opens the query, the first name is ?pageSize (docs/legacy-contract.md §3).
    ['a second question mark starts the first name', '??pageSize=2'],
    ['an unknown name with a plus', '?a+b=1&pageSize=2'], ['an unknown value with percent escapes', '?note=%C3%84rzt&pageSize=2'],
  ]
  for (const [name, query] of nameForms) cases.push(same(name, LIST, query, 'klein'))
  for (const [name, query] of [['pharmacyId given', '?pharmacyId=AP-123&pageSize=4'], ['pharmacyId empty', '?pharmacyId=&pageSize=4'],
    ['pharmacyId upper-case name', '?PHARMACYID=1&type=P-Rezept'], ['pharmacyId with escapes', '?pharmacyId=%C3%84&pageSize=2']]) {
    cases.push(same(`/status ${name}`, PHARMACY, query!, 'klein'))
    cases.push(same(`/status ${name} (gross)`, PHARMACY, query!, 'gross'))
  }
  // Path forms the legacy routes alike (docs/legacy-contract.md §3).
  for (const path of ['/V2/REZEPT', '/v2.0/rezept', '/v2/rezept/', '/v2.0/Rezept/']) {
    cases.push({ ...same(`path form ${path}`, LIST, '', 'klein'), rawUrl: `${path}?pageSize=3` })
  }
  for (const path of ['/v2/rezept/STATUS', '/v2.0/rezept/status/']) {
    cases.push({ ...same(`path form ${path}`, PHARMACY, '', 'klein'), rawUrl: `${path}?pageSize=3` })
  }
  // Authorization forms the fast path verifies itself.
  cases.push(same('the scheme in lower case', LIST, '?pageSize=2', null, { headers: { authorization: basicAuthorization('arz-klein', 'klein-Geheim2', 'basic') } }))
  cases.push(same('the scheme in upper case', LIST, '?pageSize=2', null, { headers: { authorization: basicAuthorization('arz-klein', 'klein-Geheim2', 'BASIC') } }))
  cases.push(same('an X-Request-Id header changes nothing', LIST, '?pageSize=2', 'klein', { headers: { 'x-request-id': 'abc' } }))
  cases.push(same('Accept: application/json changes nothing', LIST, '?pageSize=2', 'klein', { headers: { accept: 'application/json' } }))

  // Deferrals: methods and headers.
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) cases.push(deferred(`${method} is left to the legacy`, 'method', '', { method }))
  cases.push(deferred('X-Tenant-Id makes the legacy answer 500', 'tenant-header', '', { headers: { 'x-tenant-id': '7' }, legacyStatus: 500 }))
  cases.push(deferred('X-Tenant-Id on /status', 'tenant-header', '', { routeId: PHARMACY, rawUrl: '/v2/rezept/status', headers: { 'x-tenant-id': 'a' }, legacyStatus: 500 }))
  cases.push(deferred('an empty X-Tenant-Id is still the legacy\'s to judge', 'tenant-header', '', { headers: { 'x-tenant-id': '' } }))
  cases.push(deferred('X-API-Version 2.0', 'version-header', '', { headers: { 'x-api-version': '2.0' } }))
  cases.push(deferred('X-API-Version 1.0', 'version-header', '', { headers: { 'x-api-version': '1.0' } }))
  // Deferrals: query values the fast path does not bind itself.
  const badQueries: Array<[string, string, number?]> = [
    ['page=0', '?page=0', 500], ['page=-1', '?page=-1', 500], ['page=abc', '?page=abc', 400], ['page=+1', '?page=+1'], ['page=01', '?page=01'],
    ['page=1.5', '?page=1.5', 400], ['page=2147483648', '?page=2147483648', 400], ['page empty', '?page=', 400], ['page without =', '?page', 400],
    ['page repeated', '?page=1&page=2'], ['page repeated in other case', '?page=1&PAGE=2'], ['pageSize=-1', '?pageSize=-1', 500],
    ['pageSize=01', '?pageSize=01'], ['pageSize escaped digit', '?pageSize=%31'], ['page with a hex form', '?page=0x10'],
    ['page with an escaped plus', '?page=%2B1'], ['page with a trailing blank', '?page=1%20'], ['page with a plus blank', '?page=1+'],
    ['an escaped name', '?pa%67e=2'], ['a name with a plus', '?page+=2'], ['type with an escape', '?type=E%2DRezept'],
    ['type with a plus', '?type=e+rezept'], ['type repeated', '?type=eMuster16&type=P-Rezept'], ['type with an escaped long s (ſ folds to S in .NET)', '?type=eMu%C5%BFter16'],
    ['page times pageSize overflows 32 bits', '?page=4294968&pageSize=500'], ['page 2^31-1 with pageSize 2', '?page=2147483647&pageSize=2'],
    ['page=0 with an unknown type', '?page=0&type=x'], ['pageSize=-5 with an unknown type', '?pageSize=-5&type=x'],
    ['pageSize 99999999999', '?pageSize=99999999999', 400], ['a fragment', '?page=1#x'],
  ]
  for (const [name, query, status] of badQueries) cases.push(deferred(name, 'query', query, status === undefined ? {} : { legacyStatus: status }))
  cases.push(deferred('pharmacyId repeated on /status', 'query', '', { routeId: PHARMACY, rawUrl: '/v2/rezept/status?pharmacyId=1&pharmacyId=2' }))
  cases.push(deferred('page=0 on /status', 'query', '', { routeId: PHARMACY, rawUrl: '/v2/rezept/status?page=0', legacyStatus: 500 }))
  // Deferrals: authentication the fast path is not sure of (the legacy says 401).
  const auth: Array<[string, DeferReason, Record<string, string>]> = [
    ['no Authorization header', 'auth-unparsable', {}], ['a Bearer token', 'auth-unparsable', { authorization: 'Bearer abc' }],
    ['Basic without a parameter', 'auth-unparsable', { authorization: 'Basic' }], ['Basic with a blank parameter', 'auth-unparsable', { authorization: 'Basic ' }],
    ['Basic with invalid base64', 'auth-unparsable', { authorization: 'Basic !!!!' }],
    ['Basic without a colon', 'auth-unparsable', { authorization: `Basic ${Buffer.from('arz-klein').toString('base64')}` }],
    ['Basic with two blanks', 'auth-unparsable', { authorization: `Basic  ${Buffer.from('arz-klein:klein-Geheim2').toString('base64')}` }],
    ['an unknown user', 'auth-unknown-user', { authorization: basicAuthorization('arz-niemand', 'x') }],
    ['the user name in other case', 'auth-unknown-user', { authorization: basicAuthorization('ARZ-KLEIN', 'klein-Geheim2') }],
    ['a wrong plain-text password', 'auth-wrong-password', { authorization: basicAuthorization('arz-klein', 'klein-geheim2') }],
    ['a wrong BCrypt password', 'auth-wrong-password', { authorization: basicAuthorization('arz-gross', 'gross-Geheim1 ') }],
    ['an empty password', 'auth-wrong-password', { authorization: basicAuthorization('arz-klein', '') }],
    ['a password with a colon after the first', 'auth-wrong-password', { authorization: basicAuthorization('arz-klein', 'klein-Geheim2:x') }],
  ]
  for (const [name, reason, headers] of auth) {
    // Two blanks after the scheme: the legacy trims and accepts; the fast path leaves that to it.
    const legacyStatus = name === 'Basic with two blanks' ? 200 : 401
    cases.push(deferred(name, reason, '?pageSize=3', { user: null, headers, legacyStatus }))
  }
  return cases
}

export const FAST_PATH_CASES: readonly FastPathCase[] = Object.freeze(buildCases())
