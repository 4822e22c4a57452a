// The legacy's routing rules for the fast routes (docs/legacy-contract.md §3) and the odd targets that must not match.
import t from 'tap'
import { matchRoute } from '../../routes/route-table.ts'
import { canaryBucket } from '../../routes/flags/flag-store.ts'

const MATCHES: [string, string][] = [
  ['/v2/rezept', 'v2.rezept.list'],
  ['/v2/rezept/', 'v2.rezept.list'],
  ['/V2.0/Rezept/', 'v2.rezept.list'],
  ['/v2.0/REZEPT?page=1&pageSize=5', 'v2.rezept.list'],
  ['/v2/rezept/status', 'v2.rezept.pharmacy'],
  ['/V2/Rezept/Status/?pharmacyId=1', 'v2.rezept.pharmacy'],
  ['/v2/rezept?%2F=1', 'v2.rezept.list'],
  ['/api/v1/Prescriptions/new', 'v1.prescriptions.new'],
  ['/API/V1/PRESCRIPTIONS/NEW/', 'v1.prescriptions.new'],
  ['/api/v1.0/prescriptions/new?page=0', 'v1.prescriptions.new'],
]
const NO_MATCH = [
  '//v2/rezept', '/v2//rezept', '/v2/rezept//', '/v2/%72ezept', '/v2%2Frezept', '/v2/./rezept', '/v2/x/../rezept', '/v2/rezept/.',
  '/v2/rezept;x=1', '/v2/rezept\\', '/v2/rëzept', '/v2.1/rezept', '/v1/rezept', '/api/v2/rezept', '/v2/rezept/statusuuid', 'v2/rezept', '', '/v2/rezept/status/x',
  // Without a version segment only with X-API-Version (left to the legacy); other version spellings and routes of v1.
  '/api/Prescriptions/new', '/api/v2/prescriptions/new', '/api/v1.1/prescriptions/new', '/api/v01/prescriptions/new', '/v1/prescriptions/new',
  '/api/v1/prescriptions/mark-as-read', '/api/v1/prescriptions/new/x', '/api/v1//prescriptions/new',
]

t.test('the fast routes match with the legacy\'s rules: any case, v2 or v2.0, trailing slash', async (t) => {
  for (const [target, id] of MATCHES) t.equal(matchRoute('GET', target)?.id, id, target)
})

t.test('odd targets and other methods are not matched and pass through', async (t) => {
  for (const target of NO_MATCH) t.equal(matchRoute('GET', target), null, JSON.stringify(target))
  for (const method of ['HEAD', 'POST', 'get', 'PATCH']) t.equal(matchRoute(method, '/v2/rezept'), null, method)
  t.equal(matchRoute(undefined, '/v2/rezept'), null)
  t.equal(matchRoute('GET', undefined), null)
})

t.test('canary buckets are stable and spread', async (t) => {
  t.equal(canaryBucket('Basic abc'), canaryBucket('Basic abc'))
  const buckets = new Set(Array.from({ length: 200 }, (_, i) => Math.floor(canaryBucket(`Basic user${i}`) / 1000)))
  t.ok(buckets.size >= 9, 'two hundred clients fall in (nearly) every tenth')
  t.ok(canaryBucket(undefined) >= 0 && canaryBucket(undefined) < 10_000)
})

t.test('PATCH /v2/rezept/statusuuid matches with the same rules, and only as a PATCH', async (t) => {
  for (const target of ['/v2/rezept/statusuuid', '/v2/rezept/statusuuid/', '/V2.0/Rezept/StatusUuid', '/v2.0/REZEPT/STATUSUUID/?x=1']) {
    t.equal(matchRoute('PATCH', target)?.id, 'v2.rezept.statusuuid', target)
    t.ok(matchRoute('PATCH', target)?.maxBodyBytes, 'a route that reads a body')
  }
  for (const method of ['GET', 'POST', 'PUT', 'patch']) t.equal(matchRoute(method, '/v2/rezept/statusuuid'), null, method)
  for (const target of ['/v2/rezept', '/v2/rezept/status', '/v2/rezept/statusuuid/x', '/v2/rezept//statusuuid', '/v2/rezept/status%75uid']) {
    t.equal(matchRoute('PATCH', target), null, target)
  }
})
