// Issue 16 point 4: an unauthenticated POST to a missing path (404) or a DELETE by an unknown user
// (405) voided every tenant's cache. Only a write that can change prescription rows (docs/legacy-contract.md §7, §8),
// by a caller the legacy accepted (2xx), voids anything, and then only that caller's tenant.
import t from 'tap'
import { startLegacySim } from '../../legacy-sim/server.ts'
import { writesPrescriptions } from '../../routes/prescription-writes.ts'
import { seed } from '../../sql/seed/seed.ts'
import { databaseUrl, pgAdminUrl } from '../../dev/services.ts'
import { basic, get, itemsOf, send, startInstance } from './cache-instances.ts'

const KLEIN = basic('arz-klein', 'klein-Geheim2')
const GROSS = basic('arz-gross', 'gross-Geheim1')
const STRANGER = basic('niemand', 'falsch')
const LIST = '/v2/rezept?pageSize=50'

t.test('the prescription writes, in the spellings the legacy routes, and nothing else', async (t) => {
  for (const [method, target] of [
    ['PATCH', '/v2/rezept/status'], ['PATCH', '/V2.0/Rezept/Status/'], ['PATCH', '/v2/rezept/%73tatus?x=1'],
    ['POST', '/api/v1/Prescriptions/mark-as-read'], ['POST', '/api/v1.0/prescriptions/set-abgerechnet/'],
    ['POST', '/api/Prescriptions/mark-as-read'], ['POST', '/API/PRESCRIPTIONS/SET-ABGERECHNET'],
  ] as const) t.ok(writesPrescriptions(method, target), `${method} ${target} writes`)
  for (const [method, target] of [
    ['PATCH', '/v2/rezept/statusuuid'], ['GET', '/v2/rezept/status'], ['POST', '/v2/rezept/status'], ['DELETE', '/v2/rezept'],
    ['POST', '/nirgends'], ['POST', '/api/Apotheken'], ['PUT', '/api/Apotheken/1'], ['PATCH', '/v3/rezept/status'],
    ['POST', '/api/v2/Prescriptions/mark-as-read'], ['POST', '/api/v1/Prescriptions/new'], ['PATCH', '/v2/rezept/%zz'],
  ] as const) t.notOk(writesPrescriptions(method, target), `${method} ${target} does not`)
})

t.test('through the proxy: junk leaves every tenant cached; a write voids only its own tenant', async (t) => {
  const report = await seed({ adminUrl: pgAdminUrl(), prefix: 't_winv_', rows: 300, kleinRows: 300 })
  const arzswUrl = databaseUrl(report.databases.arzsw)
  const sim = await startLegacySim({ arzswUrl, port: 0 })
  t.teardown(() => sim.close())
  // A long max-stale: only an invalidation can make a read miss.
  const instance = await startInstance(t, { legacyUrl: sim.url, arzswUrl, fastPath: { cache: { maxStaleMs: 600_000 } } })
  const servedBy = async (authorization: string) => (await get(instance.url, LIST, authorization)).servedBy
  const warm = async () => {
    await get(instance.url, LIST, KLEIN)
    await get(instance.url, LIST, GROSS)
    t.equal(await servedBy(KLEIN), 'cache', 'klein cached')
    t.equal(await servedBy(GROSS), 'cache', 'gross cached')
  }
  const bothStillCached = async (what: string) => {
    t.equal(await servedBy(KLEIN), 'cache', `${what}: klein still cached`)
    t.equal(await servedBy(GROSS), 'cache', `${what}: gross still cached`)
  }
  await warm()

  t.equal((await send(instance.url, 'POST', '/nirgends', '', {})).status, 404)
  await bothStillCached('an unauthenticated POST to a missing path (404)')
  t.equal((await send(instance.url, 'DELETE', '/v2/rezept', STRANGER, {})).status, 405)
  await bothStillCached('a DELETE by an unknown user (405)')
  t.equal((await send(instance.url, 'PATCH', '/v2/rezept/status', STRANGER, { updates: [] })).status, 401)
  await bothStillCached('a write by an unknown user (401)')
  t.equal((await send(instance.url, 'PATCH', '/v2/rezept/status', KLEIN, { updates: [] })).status, 400)
  await bothStillCached('a write the legacy refused (400)')
  t.equal((await send(instance.url, 'PATCH', '/v2/rezept/statusuuid', KLEIN, { rezeptUuids: [] })).status < 500, true)
  await bothStillCached('PATCH statusuuid (a read, §6)')

  const item = itemsOf((await get(sim.url, LIST, KLEIN)).body)[0]!
  const written = await send(instance.url, 'PATCH', '/V2.0/Rezept/Status/', KLEIN, { updates: [{ rezeptUuid: item.rezeptUuid, type: item.type, transferArz: false }] })
  t.equal(written.status, 200, 'klein writes a status')
  t.not(await servedBy(KLEIN), 'cache', 'klein\'s entries are gone')
  t.equal(await servedBy(GROSS), 'cache', 'gross\'s are not')

  await warm()
  t.equal((await send(instance.url, 'POST', '/api/v1/Prescriptions/mark-as-read', GROSS, { prescriptions: [] })).status, 200)
  t.equal(await servedBy(KLEIN), 'cache', 'a v1 write by gross leaves klein cached')
  t.not(await servedBy(GROSS), 'cache', 'and voids gross')
})
