// docs/legacy-contract.md §2 (authentication, tenant header) and §3 (routing, versions, query binding, error shapes) over real HTTP.
import t, { type Test } from 'tap'
import bcrypt from 'bcryptjs'
import { basic, BCRYPT_USER, call, createSimFixture, PLAIN_USER } from './sim-fixture.ts'
import { rawExchange } from '../proxy/support/raw-exchange.ts'

const f = await createSimFixture('routing')
t.teardown(() => f.close())
await f.insert('emuster16', { id: 1, number: '1', daten: [{ uuid: 'u-1', transfer: false }] })

const PLAIN = { authorization: basic(PLAIN_USER.login, PLAIN_USER.password) }
const CHALLENGE = 'Basic realm="ArzTi3 API", charset="UTF-8"'
const TRACE_ID = /"traceId":"00-[0-9a-f]{32}-[0-9a-f]{16}-00"/
const stamps = (body: string) => body.replace(/"(delivery|response)Timestamp":"[^"]+"/g, '"$1Timestamp":"<now>"')

async function expect401(t: Test, authorization: string | undefined, why: string) {
  const r = await call(f.sim.url, '/v2/rezept', { headers: authorization === undefined ? {} : { authorization } })
  t.equal(r.status, 401, why)
  t.equal(r.body, '', `${why}: empty body`)
  t.equal(r.headers.get('www-authenticate'), CHALLENGE, `${why}: challenge header`)
  t.equal(r.headers.get('content-length'), '0')
}

t.test('a plain-text user logs in with a password that itself holds colons (split at the first colon)', async (t) => {
  const r = await call(f.sim.url, '/v2/rezept', { headers: PLAIN })
  t.equal(r.status, 200)
  t.match(r.body, /"rezeptUuid":"u-1"/)
})

t.test('a BCrypt user logs in with the password behind the hash, not the plain column', async (t) => {
  const ok = await call(f.sim.url, '/v2/rezept', { headers: { authorization: basic(BCRYPT_USER.login, BCRYPT_USER.password) } })
  t.equal(ok.status, 200, 'the hashed password (with umlaut, UTF-8) verifies')
  await expect401(t, basic(BCRYPT_USER.login, 'not-this-one'), 'the plain column is ignored when a hash is set')
})

t.test('every malformed or wrong credential is a 401 with an empty body and the Basic challenge', async (t) => {
  await expect401(t, undefined, 'no Authorization header')
  await expect401(t, 'Bearer abc', 'another scheme')
  await expect401(t, 'Basic ', 'empty parameter')
  await expect401(t, 'Basic !!!!', 'not base64')
  await expect401(t, 'Basic ' + Buffer.from('no-colon').toString('base64'), 'no colon')
  await expect401(t, basic('nobody', 'x'), 'unknown user')
  await expect401(t, basic(PLAIN_USER.login.toUpperCase(), PLAIN_USER.password), 'login name is case-sensitive')
  await expect401(t, basic(PLAIN_USER.login, PLAIN_USER.password + 'x'), 'wrong password')
  const lower = await call(f.sim.url, '/v2/rezept', { headers: { authorization: 'bAsIc ' + PLAIN.authorization.slice(6) } })
  t.equal(lower.status, 200, 'the scheme is case-insensitive')
})

t.test('a malformed BCrypt hash fails the login instead of the request', async (t) => {
  await f.arzsw.query(`INSERT INTO arzsw_benutzer (arzsw_mandant_id, arzsw_datenbank_id, benutzer_name, login_name, login_passwort, login_passwort_crypt)
                       VALUES (1, 1, 'Broken', 'broken-hash', 'pw', '$2a$10$tooshort')`)
  await expect401(t, basic('broken-hash', 'pw'), 'malformed hash')
})

t.test('credentials are checked on every request, with no cache', async (t) => {
  await f.arzsw.query(`INSERT INTO arzsw_benutzer (arzsw_mandant_id, arzsw_datenbank_id, benutzer_name, login_name, login_passwort, login_passwort_crypt)
                       VALUES (1, 1, 'Changing', 'changing', 'old', $1)`, [bcrypt.hashSync('first', 4)])
  t.equal((await call(f.sim.url, '/v2/rezept', { headers: { authorization: basic('changing', 'first') } })).status, 200)
  await f.arzsw.query(`UPDATE arzsw_benutzer SET login_passwort_crypt = $1 WHERE login_name = 'changing'`, [bcrypt.hashSync('second', 4)])
  await expect401(t, basic('changing', 'first'), 'the old password stops working at once')
  await f.arzsw.query(`UPDATE arzsw_benutzer SET login_passwort_crypt = '' WHERE login_name = 'changing'`)
  t.equal((await call(f.sim.url, '/v2/rezept', { headers: { authorization: basic('changing', 'old') } })).status, 200, 'an empty hash falls back to the plain column')
})

t.test('a non-empty X-Tenant-Id header is a 500 with an empty body, after authentication', async (t) => {
  const r = await call(f.sim.url, '/v2/rezept', { headers: { ...PLAIN, 'x-tenant-id': 'M1' } })
  t.equal(r.status, 500)
  t.equal(r.body, '')
  const empty = await call(f.sim.url, '/v2/rezept', { headers: { ...PLAIN, 'x-tenant-id': '' } })
  t.equal(empty.status, 200, 'an empty header is ignored')
  const anonymous = await call(f.sim.url, '/v2/rezept', { headers: { 'x-tenant-id': 'M1' } })
  t.equal(anonymous.status, 401, 'authorization answers first')
  t.equal((await call(f.sim.url, '/api/Health/arzsw', { headers: { 'x-tenant-id': 'M1' } })).status, 500, 'also on anonymous routes')
})

t.test('GET /api/Health/arzsw needs no login; /health/* fail with 500', async (t) => {
  const r = await call(f.sim.url, '/api/health/ARZSW')
  t.equal(r.status, 200)
  t.equal(r.body, '{"status":"ok"}')
  t.equal(r.headers.get('content-type'), 'application/json; charset=utf-8')
  for (const path of ['/health/live', '/health/ready', '/health/system']) {
    const h = await call(f.sim.url, path)
    t.equal(h.status, 500, path)
    t.equal(h.body, '', `${path}: empty body`)
  }
})

t.test('paths are case-insensitive, ignore a trailing slash and accept v2 or v2.0', async (t) => {
  const reference = stamps((await call(f.sim.url, '/v2/rezept', { headers: PLAIN })).body)
  for (const path of ['/V2/REZEPT', '/v2.0/rezept', '/v2/rezept/', '/v2.0/Rezept/']) {
    const r = await call(f.sim.url, path, { headers: PLAIN })
    t.equal(r.status, 200, path)
    t.equal(stamps(r.body), reference, `${path}: same body`)
  }
})

t.test('X-API-Version selects the version; unversioned v1 paths need 1.0; a version error is a 400 with no body', async (t) => {
  t.equal((await call(f.sim.url, '/v2/rezept', { headers: { ...PLAIN, 'x-api-version': '2.0' } })).status, 200, 'matching header')
  // Measured on the real legacy (recordings): every version error is an empty 400, no problem details.
  const emptyBadRequest = async (path: string, headers: Record<string, string>, what: string) => {
    const r = await call(f.sim.url, path, { headers })
    t.equal(r.status, 400, what)
    t.equal(r.body, '', `${what}: empty body`)
    t.equal(r.headers.get('content-type'), null, `${what}: no content type`)
    t.equal(r.headers.get('content-length'), '0', `${what}: Content-Length 0`)
  }
  await emptyBadRequest('/v2/rezept', { ...PLAIN, 'x-api-version': '1.0' }, 'header contradicting the URL')
  await emptyBadRequest('/api/Prescriptions/new', PLAIN, 'v1 route without the header')
  t.equal((await call(f.sim.url, '/api/Prescriptions/new', { headers: { ...PLAIN, 'x-api-version': '1.0' } })).status, 200, 'with X-API-Version: 1.0')
  t.equal((await call(f.sim.url, '/api/v1/prescriptions/NEW', { headers: PLAIN })).status, 200, 'v1 in the path')
  t.equal((await call(f.sim.url, '/api/v1.0/Prescriptions/new', { headers: PLAIN })).status, 200, 'v1.0 in the path')
  await emptyBadRequest('/v3/rezept', PLAIN, 'a version nobody serves')
  await emptyBadRequest('/v2/rezept', { ...PLAIN, 'x-api-version': '3' }, 'a header version nobody serves')
  await emptyBadRequest('/v2/rezept', { ...PLAIN, 'x-api-version': 'abc' }, 'an unparsable header version')
  t.equal((await call(f.sim.url, '/vX/rezept', { headers: PLAIN })).status, 404, 'no version in the version segment: no route')
})

t.test('two Authorization headers are one joined value that does not parse: 401 even when both are valid', async (t) => {
  const credential = PLAIN.authorization!
  const twice = await rawExchange(f.sim.url, { method: 'GET', target: '/v2/rezept?pageSize=1', headers: ['Authorization', credential, 'Authorization', credential] })
  t.equal(twice.status, 401)
  t.equal(twice.body.length, 0, 'empty body')
  const once = await rawExchange(f.sim.url, { method: 'GET', target: '/v2/rezept?pageSize=1', headers: ['Authorization', credential] })
  t.equal(once.status, 200, 'the same credential once is accepted')
})

t.test('a # in the request target is rejected as Kestrel does: 400, empty, before authentication', async (t) => {
  for (const target of ['/v2/rezept#x', '/v2/rezept?pageSize=1#frag', '/nothing#']) {
    const r = await rawExchange(f.sim.url, { method: 'GET', target, headers: ['Authorization', PLAIN.authorization!] })
    t.equal(r.status, 400, target)
    t.equal(r.body.length, 0, `${target}: empty body`)
  }
})

t.test('only one leading ? belongs to the query: ??pageSize=2 names the unknown ?pageSize', async (t) => {
  const r = await rawExchange(f.sim.url, { method: 'GET', target: '/v2/rezept??pageSize=2', headers: ['Authorization', PLAIN.authorization!] })
  t.equal(r.status, 200)
  t.match(r.body.toString('utf8'), /"page":1,"pageSize":100,/, 'pageSize is the default')
})

t.test('other methods answer 405 and unknown paths 404, both empty', async (t) => {
  const m = await call(f.sim.url, '/v2/rezept', { method: 'DELETE', headers: PLAIN })
  t.equal(m.status, 405)
  t.equal(m.body, '')
  t.equal(m.headers.get('allow'), 'GET')
  const s = await call(f.sim.url, '/v2/rezept/status', { method: 'POST', headers: PLAIN })
  t.equal(s.headers.get('allow'), 'GET, PATCH')
  for (const path of ['/v2/nothing', '/', '/api/Apotheken/abc', '/api/Apotheken/99999999999']) {
    const r = await call(f.sim.url, path, { headers: PLAIN })
    t.equal(r.status, 404, path)
    t.equal(r.body, '', `${path}: empty`)
  }
  t.equal((await call(f.sim.url, '/v2/nothing')).status, 404, 'unknown paths need no login')
})

t.test('query names are case-insensitive and the first of repeated values is used', async (t) => {
  const r = await call(f.sim.url, '/v2/rezept?PAGESIZE=7&pagesize=9&Page=1&page=abc', { headers: PLAIN })
  t.equal(r.status, 200)
  t.match(r.body, /"page":1,"pageSize":7,/)
})

t.test('an unparsable integer is a 400 validation problem whose message names no parameter', async (t) => {
  const r = await call(f.sim.url, '/v2/rezept?page=abc&pageSize=1.5', { headers: PLAIN })
  t.equal(r.status, 400)
  t.equal(r.headers.get('content-type'), 'application/problem+json; charset=utf-8')
  // Byte for byte as the real legacy answers (recordings): the message names no parameter.
  t.equal(r.body.replace(TRACE_ID, '"traceId":"<id>"'),
    '{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"One or more validation errors occurred.","status":400,' +
    '"errors":{"page":["The value \'abc\' is not valid."],"pageSize":["The value \'1.5\' is not valid."]},"traceId":"<id>"}')
  const big = await call(f.sim.url, '/v2/rezept?pageSize=2147483648', { headers: PLAIN })
  t.equal(big.status, 400, 'out of the int32 range')
})

t.test('plain-text errors become a JSON string when Accept asks for JSON', async (t) => {
  const text = await call(f.sim.url, '/v2/rezept?page=0', { headers: PLAIN })
  t.equal(text.status, 500)
  t.equal(text.headers.get('content-type'), 'text/plain; charset=utf-8')
  t.equal(text.body, 'Internal server error occurred while retrieving prescriptions')
  const json = await call(f.sim.url, '/v2/rezept?page=0', { headers: { ...PLAIN, accept: 'application/json' } })
  t.equal(json.headers.get('content-type'), 'application/json; charset=utf-8')
  t.equal(json.body, '"Internal server error occurred while retrieving prescriptions"')
  const any = await call(f.sim.url, '/v2/rezept?page=0', { headers: { ...PLAIN, accept: 'application/json, */*' } })
  t.equal(any.body, 'Internal server error occurred while retrieving prescriptions', 'a */* in Accept keeps plain text')
})

t.test('answers look like Kestrel: Server header, JSON bodies chunked', async (t) => {
  const r = await call(f.sim.url, '/v2/rezept', { headers: PLAIN })
  t.equal(r.headers.get('server'), 'Kestrel')
  t.equal(r.headers.get('transfer-encoding'), 'chunked')
  t.equal(r.headers.get('content-type'), 'application/json; charset=utf-8')
})

t.test('Swagger is served in Development only', async (t) => {
  const doc = await call(f.sim.url, '/swagger/v2/swagger.json')
  t.equal(doc.status, 200)
  t.match(JSON.parse(doc.body), { info: { title: 'ARZ_TI 2.0 API' } })
  t.equal((await call(f.sim.url, '/swagger/v1/swagger.json')).status, 200)
  t.equal((await call(f.sim.url, '/swagger/index.html')).status, 200)
  const redirect = await fetch(f.sim.url + '/swagger', { redirect: 'manual' })
  t.equal(redirect.status, 301)
  t.equal((await call(f.sim.url, '/swagger/v3/swagger.json')).status, 404)
  const live = await createSimFixture('routing_live', { environment: 'Live' })
  t.teardown(() => live.close())
  t.equal((await call(live.sim.url, '/swagger/v2/swagger.json')).status, 404)
  t.match((await call(live.sim.url, '/v2/rezept', { headers: PLAIN })).body, /"environment":"Live"/)
})

t.test('an unreachable ArzSw fails the login with 401, as the legacy handler catches everything', async (t) => {
  const { startLegacySim } = await import('../../legacy-sim/server.ts')
  const sim = await startLegacySim({ arzswUrl: 'postgres://nobody@127.0.0.1:1/none' })
  t.teardown(() => sim.close())
  const r = await call(sim.url, '/v2/rezept', { headers: PLAIN })
  t.equal(r.status, 401)
  t.equal(r.headers.get('www-authenticate'), CHALLENGE)
})

t.test('white space inside the base64 credentials is skipped, as Convert.FromBase64String does', async (t) => {
  const token = PLAIN.authorization.slice(6)
  const r = await call(f.sim.url, '/v2/rezept', { headers: { authorization: `Basic ${token.slice(0, 4)} ${token.slice(4)}` } })
  t.equal(r.status, 200)
})
