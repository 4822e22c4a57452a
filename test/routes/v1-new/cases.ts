// The case table of v1 GET /api/v1/Prescriptions/new: every request goes to the legacy (simulator) and to the
// fast path; equal bytes, or the fast path defers with the named reason (docs/legacy-contract.md §3, §8).
import type { DeferReason } from '../../../routes/contract.ts'
import { basicAuthorization, type CaseUser, type FastPathCase } from '../v2-rezept-list/cases.ts'

const V1 = 'v1.prescriptions.new' as const
const PATH = '/api/v1/Prescriptions/new'

function same(name: string, query: string, user: CaseUser | null = 'klein', extra: Partial<FastPathCase> = {}): FastPathCase {
  return { name, routeId: V1, method: 'GET', rawUrl: PATH + query, headers: {}, user, expect: 'same', ...extra }
}

function deferred(name: string, reason: DeferReason, query: string, extra: Partial<FastPathCase> = {}): FastPathCase {
  return { name, routeId: V1, method: 'GET', rawUrl: PATH + query, headers: {}, user: 'klein', expect: reason, ...extra }
}

// v1 spellings in any case select a type; the v2 spellings and anything else select none.
const TYPES = ['', '?rezeptType=eMuster16', '?rezeptType=emuster16', '?rezeptType=EMUSTER16', '?rezeptType=pRezept', '?rezeptType=prezept',
  '?rezeptType=PREZEPT', '?rezeptType=eRezept', '?rezeptType=erezept', '?rezeptType=ERezept', '?rezeptType=', '?rezeptType=P-Rezept',
  '?rezeptType=E-Rezept', '?rezeptType=bogus', '?rezeptType=eMuster16x', '?REZEPTTYPE=erezept', '?rezepttype=pREZEPT']

function buildCases(): FastPathCase[] {
  const cases: FastPathCase[] = []
  for (const user of ['gross', 'klein', 'leer'] as const) {
    for (const query of TYPES) {
      if (user === 'leer' && !['', '?rezeptType=erezept', '?rezeptType=bogus'].includes(query)) continue // BCrypt cost 12: few leer cases
      cases.push(same(`${user} ${query || 'without query'}`, query, user))
    }
  }
  // Page sizes (no clamp in v1) and pages, all types concatenated and one type.
  for (const user of ['gross', 'klein'] as const) {
    for (const size of ['0', '1', '5', '7', '37', '100', '500', '501', '1000', '5000', '100000']) {
      for (const page of ['1', '2', '3']) cases.push(same(`${user} page ${page} pageSize ${size}`, `?page=${page}&pageSize=${size}`, user))
    }
  }
  for (const type of ['eMuster16', 'pRezept', 'eRezept']) {
    for (const page of ['1', '2', '3', '4', '5', '6', '7', '8']) cases.push(same(`klein ${type} page ${page} of 50`, `?rezeptType=${type}&page=${page}&pageSize=50`))
  }
  // Pages across the type boundaries of the concatenated list, and past its end.
  for (const page of ['1', '2', '4', '6', '8', '9', '10', '12', '13', '20', '1000']) cases.push(same(`klein all types page ${page} of 97`, `?page=${page}&pageSize=97`))
  // page=0 skips nothing and echoes 0; negative values as LINQ takes them; products that wrap.
  const edges: Array<[string, string]> = [
    ['page=0', '?page=0'], ['page=0 pageSize=3', '?page=0&pageSize=3'], ['page=-1', '?page=-1'], ['page=-3 pageSize=4', '?page=-3&pageSize=4'],
    ['pageSize=-1', '?pageSize=-1'], ['pageSize=-5 page=2', '?page=2&pageSize=-5'], ['page=0 pageSize=0', '?page=0&pageSize=0'],
    ['page=-1 unknown type', '?page=-1&rezeptType=x'], ['pageSize=-5 unknown type', '?pageSize=-5&rezeptType=x'],
    ['page 2^31-1 pageSize 2 (the skip wraps)', '?page=2147483647&pageSize=2'], ['page 2^31-1 pageSize 1', '?page=2147483647&pageSize=1'],
    ['page -2^31', '?page=-2147483648&pageSize=3'], ['page 2^30 pageSize 2', '?page=1073741824&pageSize=2'],
    ['page 1073741823 pageSize 2', '?page=1073741823&pageSize=2'], ['page 4294968 pageSize 500', '?page=4294968&pageSize=500'],
    ['pageSize -2^31', '?pageSize=-2147483648'], ['page 1000 pageSize 100', '?page=1000&pageSize=100'],
  ]
  for (const user of ['gross', 'klein'] as const) for (const [name, query] of edges) cases.push(same(`${user} ${name}`, query, user))
  cases.push(same('leer page=0', '?page=0&pageSize=5', 'leer'))
  // Names are case-insensitive; unknown parameters (v2's `type` too) and empty pieces are ignored.
  const nameForms: Array<[string, string]> = [
    ['upper-case names', '?PAGE=2&PAGESIZE=5&REZEPTTYPE=eMuster16'], ['mixed-case names', '?Page=1&PageSize=3&RezeptType=eRezept'],
    ['v2 type is unknown here', '?type=eMuster16&pageSize=4'], ['unknown parameters ignored', '?foo=bar&page=2&pageSize=4&x=%ZZ'],
    ['empty pieces ignored', '?&&page=2&&pageSize=6&'], ['a bare question mark', '?'], ['a second question mark starts the first name', '??pageSize=2'],
    ['an unknown name with a plus', '?a+b=1&pageSize=2'], ['an unknown repeated parameter', '?a=1&a=2&pageSize=2'],
  ]
  for (const [name, query] of nameForms) cases.push(same(name, query))
  // Path forms the legacy routes to the same action (docs/legacy-contract.md §3, §8).
  for (const path of ['/API/V1/PRESCRIPTIONS/NEW', '/api/v1.0/prescriptions/new', '/api/v1/Prescriptions/new/', '/Api/V1.0/Prescriptions/New/']) {
    cases.push({ ...same(`path form ${path}`, ''), rawUrl: `${path}?pageSize=3` })
    cases.push({ ...same(`path form ${path} (gross)`, '', 'gross'), rawUrl: `${path}?pageSize=3&rezeptType=prezept` })
  }
  cases.push(same('Accept: application/json changes nothing', '?pageSize=2', 'klein', { headers: { accept: 'application/json' } }))
  cases.push(same('the scheme in lower case', '?pageSize=2', null, { headers: { authorization: basicAuthorization('arz-klein', 'klein-Geheim2', 'basic') } }))

  // Deferrals: methods and headers.
  for (const method of ['POST', 'PUT', 'DELETE']) cases.push(deferred(`${method} is left to the legacy`, 'method', '', { method }))
  cases.push(deferred('X-Tenant-Id', 'tenant-header', '', { headers: { 'x-tenant-id': '7' }, legacyStatus: 500 }))
  cases.push(deferred('X-API-Version 1.0', 'version-header', '?pageSize=2', { headers: { 'x-api-version': '1.0' }, legacyStatus: 200 }))
  cases.push(deferred('X-API-Version 2.0', 'version-header', '', { headers: { 'x-api-version': '2.0' }, legacyStatus: 400 }))
  cases.push(deferred('X-API-Version on the unversioned path', 'version-header', '', { rawUrl: '/api/Prescriptions/new?pageSize=2', headers: { 'x-api-version': '1.0' }, legacyStatus: 200 }))
  // Deferrals: query values the fast path does not bind itself.
  const badQueries: Array<[string, string, number?]> = [
    ['page=abc', '?page=abc', 400], ['pageSize=1.0', '?pageSize=1.0', 400], ['pageSize=1e2', '?pageSize=1e2', 400], ['page=+1', '?page=+1', 200],
    ['page=01', '?page=01', 200], ['page=-0', '?page=-0', 200], ['page with a hex form', '?page=0x10', 200], ['page empty', '?page=', 400],
    ['page without =', '?page', 400], ['page 2^31', '?page=2147483648', 400], ['pageSize 99999999999', '?pageSize=99999999999', 400],
    ['page repeated', '?page=1&page=2'], ['page repeated in other case', '?page=1&PAGE=2'], ['pageSize escaped digit', '?pageSize=%31'],
    ['page with an escaped plus', '?page=%2B1'], ['page with a plus blank', '?page=1+'], ['an escaped name', '?pa%67e=2'],
    ['a name with a plus', '?page+=2'], ['rezeptType with an escape', '?rezeptType=e%52ezept'], ['rezeptType with a plus', '?rezeptType=e+rezept'],
    ['rezeptType repeated', '?rezeptType=eRezept&rezeptType=pRezept'], ['rezeptType blank', '?rezeptType=%20'], ['a fragment', '?page=1#x'],
  ]
  for (const [name, query, status] of badQueries) cases.push(deferred(name, 'query', query, status === undefined ? {} : { legacyStatus: status }))
  cases.push(deferred('pageSize above the fast path\'s limit', 'page-size-limit', '?pageSize=100001'))
  cases.push(deferred('pageSize 2^31-1', 'page-size-limit', '?pageSize=2147483647'))
  // Deferrals: authentication the fast path is not sure of (the legacy says 401).
  const auth: Array<[string, DeferReason, Record<string, string>]> = [
    ['no Authorization header', 'auth-unparsable', {}], ['a Bearer token', 'auth-unparsable', { authorization: 'Bearer abc' }],
    ['an unknown user', 'auth-unknown-user', { authorization: basicAuthorization('arz-niemand', 'x') }],
    ['a wrong password', 'auth-wrong-password', { authorization: basicAuthorization('arz-klein', 'klein-geheim2') }],
  ]
  for (const [name, reason, headers] of auth) cases.push(deferred(name, reason, '?pageSize=3', { user: null, headers, legacyStatus: 401 }))
  return cases
}

export const V1_NEW_CASES: readonly FastPathCase[] = Object.freeze(buildCases())
