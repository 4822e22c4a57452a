// One table of requests sent to the legacy simulator directly and through the proxy with every flag
// off: status, body and end-to-end headers must be identical (Date and hop-by-hop headers aside).
import t from 'tap'
import { startLegacySim, type LegacySimHandle } from '../../legacy-sim/server.ts'
import { seed, seedDatabaseNames, SEED_USERS } from '../../sql/seed/seed.ts'
import { databaseUrl, pgAdminUrl } from '../../dev/services.ts'
import { basic, comparableHeaders, headerValue, maskVolatile, rawExchange, type RawRequest } from './support/raw-exchange.ts'
import { proxyFor } from './support/proxy-under-test.ts'

const PREFIX = 't_proxy_parity_'
const gross = SEED_USERS[0]!
const good = basic(gross.login, gross.password)
const bad = basic(gross.login, 'wrong')
const bigBody = Buffer.alloc(5 * 1024 * 1024, 'x')
const apotheke = Buffer.from(JSON.stringify({ ikNr: '123456789', name: 'Apotheke am Markt' }))

interface ParityCase extends RawRequest {
  readonly name: string
  /** Refused by the HTTP parser of both servers (as Kestrel would): no Server-Timing to expect. */
  readonly parserRefuses?: boolean
}

const CASES: readonly ParityCase[] = [
  { name: 'GET /v2/rezept with good credentials', method: 'GET', target: '/v2/rezept?pageSize=3', headers: ['Authorization', good] },
  { name: 'the odd spelling /V2.0/Rezept/ the legacy also routes', method: 'GET', target: '/V2.0/Rezept/?PAGESIZE=2&type=eMuster16', headers: ['Authorization', good] },
  { name: 'GET /v2/rezept/status with a pharmacy id', method: 'GET', target: '/v2/rezept/status?pharmacyId=1&pageSize=2', headers: ['Authorization', good] },
  { name: 'wrong credentials get the legacy 401', method: 'GET', target: '/v2/rezept', headers: ['Authorization', bad] },
  { name: 'no credentials at all', method: 'GET', target: '/v2/rezept' },
  { name: 'X-Tenant-Id makes the legacy answer 500', method: 'GET', target: '/v2/rezept', headers: ['Authorization', good, 'X-Tenant-Id', 'other'] },
  { name: 'a double slash is passed on unnormalised', method: 'GET', target: '//api/Health/arzsw' },
  { name: 'an encoded slash stays encoded', method: 'GET', target: '/v2%2Frezept', headers: ['Authorization', good] },
  { name: 'dot segments stay', method: 'GET', target: '/v2/x/../rezept', headers: ['Authorization', good] },
  { name: 'a semicolon path', method: 'GET', target: '/v2/rezept;x=1', headers: ['Authorization', good] },
  { name: 'raw UTF-8 bytes in the path', method: 'GET', target: Buffer.from('/v2/rezept/ärzte', 'utf8').toString('latin1'), headers: ['Authorization', good], parserRefuses: true },
  { name: 'a percent-encoded umlaut in the path', method: 'GET', target: '/v2/rezept/%C3%A4rzte', headers: ['Authorization', good] },
  { name: 'a percent-encoded umlaut in the query', method: 'GET', target: '/v2/rezept?type=%C3%A4&pageSize=1', headers: ['Authorization', good] },
  { name: 'duplicate headers (first Authorization wins in both)', method: 'GET', target: '/v2/rezept?pageSize=1', headers: ['Authorization', good, 'X-Dup', 'a', 'X-Dup', 'b', 'Authorization', bad] },
  { name: 'the health route without auth', method: 'GET', target: '/api/Health/arzsw' },
  { name: 'HEAD of the health route', method: 'HEAD', target: '/api/Health/arzsw' },
  { name: 'OPTIONS of a prescription route', method: 'OPTIONS', target: '/v2/rezept', headers: ['Authorization', good] },
  { name: 'an unknown path is a 404', method: 'GET', target: '/nothing/here' },
  { name: 'a method the route does not take is a 405', method: 'DELETE', target: '/v2/rezept', headers: ['Authorization', good] },
  { name: 'the legacy-only health routes answer 500', method: 'GET', target: '/health/live' },
  { name: 'PATCH statusuuid with a JSON body', method: 'PATCH', target: '/v2/rezept/statusuuid', headers: ['Authorization', good, 'Content-Type', 'application/json'], body: Buffer.from('{"rezeptUuids":["nope"]}') },
  { name: 'PATCH statusuuid with a chunked body', method: 'PATCH', target: '/v2/rezept/statusuuid', headers: ['Authorization', good, 'Content-Type', 'application/json'], body: [Buffer.from('{"rezeptUuids":'), Buffer.from('["a","b"]}')] },
  { name: 'PATCH with Expect: 100-continue', method: 'PATCH', target: '/v2/rezept/statusuuid', headers: ['Authorization', good, 'Content-Type', 'application/json'], body: Buffer.from('{"rezeptUuids":[]}'), expectContinue: true },
  { name: 'POST of a 5 MB body', method: 'POST', target: '/api/Apotheken', headers: ['Authorization', good, 'Content-Type', 'application/json'], body: bigBody },
  { name: 'POST of a 5 MB chunked body', method: 'POST', target: '/api/v1/Prescriptions/mark-as-read', headers: ['Authorization', good, 'Content-Type', 'application/json'], body: [bigBody.subarray(0, 1 << 20), bigBody.subarray(1 << 20)] },
  { name: 'PUT to an Apotheke that does not exist', method: 'PUT', target: '/api/Apotheken/999999', headers: ['Authorization', good, 'Content-Type', 'application/json'], body: apotheke },
  { name: 'DELETE of an Apotheke that does not exist', method: 'DELETE', target: '/api/Apotheken/999999', headers: ['Authorization', good] },
  { name: 'v1 without the version header is a 400', method: 'GET', target: '/api/Prescriptions/new', headers: ['Authorization', good] },
  { name: 'a bad integer parameter gets the validation problem', method: 'GET', target: '/v2/rezept?page=abc', headers: ['Authorization', good] },
]

t.test('every request gets the same answer through the proxy (flags off) as from the legacy directly', async (t) => {
  await seed({ adminUrl: pgAdminUrl(), prefix: PREFIX, rows: 300, kleinRows: 300 })
  const sim: LegacySimHandle = await startLegacySim({ arzswUrl: databaseUrl(seedDatabaseNames(PREFIX).arzsw) })
  t.teardown(() => sim.close())
  const proxy = await proxyFor(t, { legacyUrl: sim.url, flags: { 'v2.rezept.list': 'off', 'v2.rezept.pharmacy': 'off' } })

  for (const c of CASES) {
    // The same Host both ways: the legacy echoes it in problem bodies, and it must pass unchanged.
    const request = { ...c, headers: ['Host', 'arzti.example:8443', ...(c.headers ?? [])] }
    const direct = await rawExchange(sim.url, request)
    const proxied = await rawExchange(proxy.url, request)
    t.equal(proxied.status, direct.status, `${c.name}: status`)
    t.same(comparableHeaders(proxied.headers), comparableHeaders(direct.headers), `${c.name}: headers`)
    t.equal(maskVolatile(proxied.body), maskVolatile(direct.body), `${c.name}: body`)
    if (!c.parserRefuses) t.match(headerValue(proxied.headers, 'server-timing') ?? '', /^legacy;dur=\d+\.\d$/, `${c.name}: Server-Timing names the legacy`)
    if (c.expectContinue) t.ok(proxied.sawContinue, `${c.name}: the client got its 100 Continue`)
  }
  const ok = await rawExchange(proxy.url, CASES[0]!)
  t.equal(ok.status, 200, 'the seeded user really is let in (the table is not all errors)')
})
