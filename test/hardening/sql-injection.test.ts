// SQL injection in every input that could reach SQL — query parameters, Basic credentials, path
// segments, X-Tenant-Id — sent to the legacy simulator directly and through the proxy with both fast
// paths on: the answers are the same bytes, Server-Timing says which side answered, the tenant's and
// ArzSw's tables are unchanged afterwards, and no SQL text PostgreSQL received holds a payload (values
// are bound, never spliced into the statement).
import t from 'tap'
import pg from 'pg'
import { startLegacySim } from '../../legacy-sim/server.ts'
import { seed } from '../../sql/seed/seed.ts'
import { databaseUrl, pgAdminUrl } from '../../dev/services.ts'
import { startInstance } from '../cache/cache-instances.ts'
import { basic, headerValue, maskVolatile, rawExchange, type RawAnswer } from '../proxy/support/raw-exchange.ts'
import { blankVolatile } from '../routes/v2-rezept-list/comparison-fixture.ts'

// Every SQL text any pg client in this process sends (the proxy's and the simulator's, which binds
// its values like EF Core does): recorded before anything connects.
const sqlTexts = new Set<string>()
let recording = false
const originalQuery = pg.Client.prototype.query
pg.Client.prototype.query = function recordedQuery(this: pg.Client, config: unknown, ...rest: unknown[]) {
  const text = typeof config === 'string' ? config : (config as { text?: unknown } | null)?.text
  if (recording && typeof text === 'string') sqlTexts.add(text)
  return (originalQuery as (...args: unknown[]) => unknown).call(this, config, ...rest)
} as typeof originalQuery
t.teardown(() => {
  pg.Client.prototype.query = originalQuery
})

const KLEIN_PASSWORD = 'klein-Geheim2'
const KLEIN = basic('arz-klein', KLEIN_PASSWORD)

/** A payload that, spliced into SQL, would change what the statement means. */
const PAYLOADS: readonly string[] = [
  "' OR 1=1--",
  "' OR '1'='1",
  "arz-klein' --",
  "x' OR b.login_name = 'arz-klein",
  "x' UNION SELECT login_passwort, NULL, datenbank_connection_string FROM arzsw_benutzer b JOIN arzsw_datenbank d USING (arzsw_datenbank_id) --",
  '"; DROP TABLE arzsw_benutzer; --',
  "arz-klein'; DROP TABLE er_senderezepte_emuster16; --",
  "1; DELETE FROM er_senderezepte_emuster16_daten",
  "x'; DELETE FROM arzsw_benutzer WHERE login_name = 'arz-leer'; --",
  "arz-klein\\' OR 1=1 --",
  'arz-klein\u2019 OR \u20191\u2019=\u20191', // right single quotation marks
  'arz-klein\u02BC OR 1=1--', // modifier letter apostrophe
  'arz-klein\uFF07 OR 1=1--', // fullwidth apostrophe
  "arz-klein$$ OR 1=1 $$",
  "arz-klein' || pg_sleep(5) || '",
]

interface Case {
  readonly name: string
  readonly target: string
  readonly headers: readonly string[]
  /** Who answers through the proxy: the fast path where it takes the input, the legacy where it defers. */
  readonly servedBy: 'fast' | 'legacy'
  /** The payload as it would reach SQL, to look for in the statement texts. */
  readonly payload: string
}

const enc = encodeURIComponent
const cases: Case[] = []

// Basic credentials: every payload as the login (with the right and a wrong password) and as the
// password. None is a user, so the legacy says 401 and the proxy leaves it to the legacy.
for (const payload of PAYLOADS) {
  cases.push({ name: `login ${JSON.stringify(payload)} with klein's password`, target: '/v2/rezept?pageSize=3', headers: ['Authorization', basic(payload, KLEIN_PASSWORD)], servedBy: 'legacy', payload })
  cases.push({ name: `login ${JSON.stringify(payload)} on /status`, target: '/v2/rezept/status', headers: ['Authorization', basic(payload, 'x')], servedBy: 'legacy', payload })
  cases.push({ name: `password ${JSON.stringify(payload)} of arz-klein`, target: '/v2/rezept?pageSize=3', headers: ['Authorization', basic('arz-klein', payload)], servedBy: 'legacy', payload })
}
cases.push({ name: 'login with a NUL after decoding', target: '/v2/rezept?pageSize=3', headers: ['Authorization', basic("arz-klein\u0000' OR 1=1--", KLEIN_PASSWORD)], servedBy: 'legacy', payload: "' OR 1=1--" })
cases.push({ name: 'login of 4,000 characters', target: '/v2/rezept?pageSize=3', headers: ['Authorization', basic("' OR 1=1--".repeat(400), KLEIN_PASSWORD)], servedBy: 'legacy', payload: "' OR 1=1--".repeat(400) })
cases.push({ name: 'login with quotes inside a colon-split', target: '/v2/rezept', headers: ['Authorization', basic("arz-klein':' OR '1'='1", KLEIN_PASSWORD)], servedBy: 'legacy', payload: "arz-klein'" })

// Query parameters, with the good credentials: integers that are not canonical go to the legacy
// (400 there); a `type` that is plain ASCII is an unknown type the fast path answers (no query runs);
// unknown parameters and pharmacyId are ignored by both.
for (const path of ['/v2/rezept', '/v2/rezept/status']) {
  for (const payload of PAYLOADS) {
    cases.push({ name: `${path} page=${JSON.stringify(payload)}`, target: `${path}?page=${enc(payload)}`, headers: ['Authorization', KLEIN], servedBy: 'legacy', payload })
    cases.push({ name: `${path} pageSize=${JSON.stringify(payload)}`, target: `${path}?pageSize=${enc(payload)}`, headers: ['Authorization', KLEIN], servedBy: 'legacy', payload })
    cases.push({ name: `${path} type=${JSON.stringify(payload)} (encoded)`, target: `${path}?type=${enc(payload)}`, headers: ['Authorization', KLEIN], servedBy: 'legacy', payload })
    cases.push({ name: `${path} unknown parameter =${JSON.stringify(payload)}`, target: `${path}?pageSize=2&filter=${enc(payload)}`, headers: ['Authorization', KLEIN], servedBy: 'fast', payload })
    cases.push({ name: `${path} pharmacyId=${JSON.stringify(payload)}`, target: `${path}?pharmacyId=${enc(payload)}&pageSize=2`, headers: ['Authorization', KLEIN], servedBy: 'fast', payload })
  }
  // Unencoded (raw) payloads the fast path's parser takes as they are.
  for (const raw of ["'OR'1'='1", "eMuster16'--", "E-Rezept';DROP/**/TABLE/**/er_senderezepte_erezept;--", "P-Rezept'/**/OR/**/1=1"]) {
    cases.push({ name: `${path} raw type=${raw}`, target: `${path}?type=${raw}&pageSize=2`, headers: ['Authorization', KLEIN], servedBy: 'fast', payload: raw })
  }
  cases.push({ name: `${path} raw type with a double quote`, target: `${path}?type=eMuster16"--`, headers: ['Authorization', KLEIN], servedBy: 'legacy', payload: 'eMuster16"--' })
  cases.push({ name: `${path} raw page=1'--`, target: `${path}?page=1'--`, headers: ['Authorization', KLEIN], servedBy: 'legacy', payload: "1'--" })
  cases.push({ name: `${path} raw pageSize=1;DROP/**/TABLE/**/x`, target: `${path}?pageSize=1;DROP/**/TABLE/**/x`, headers: ['Authorization', KLEIN], servedBy: 'legacy', payload: 'DROP/**/TABLE/**/x' })
  cases.push({ name: `${path} parameter name is the payload`, target: `${path}?'OR'1'='1=1&pageSize=2`, headers: ['Authorization', KLEIN], servedBy: 'fast', payload: "'OR'1'='1" })
  cases.push({ name: `${path} encoded parameter name is the payload`, target: `${path}?${enc("page' OR 1=1--")}=1`, headers: ['Authorization', KLEIN], servedBy: 'legacy', payload: "page' OR 1=1--" })
  cases.push({ name: `${path} type with a unicode quote`, target: `${path}?type=${enc('eMuster16\u2019 OR 1=1')}`, headers: ['Authorization', KLEIN], servedBy: 'legacy', payload: 'eMuster16\u2019 OR 1=1' })
}

// Path segments: no route takes them, the legacy 404s.
for (const payload of ["' OR 1=1--", "'; DROP TABLE arzsw_benutzer; --", 'eMuster16\u2019--']) {
  cases.push({ name: `path segment after /v2/rezept ${JSON.stringify(payload)}`, target: `/v2/rezept/${enc(payload)}`, headers: ['Authorization', KLEIN], servedBy: 'legacy', payload })
  cases.push({ name: `path segment after /v2/rezept/status ${JSON.stringify(payload)}`, target: `/v2/rezept/status/${enc(payload)}`, headers: ['Authorization', KLEIN], servedBy: 'legacy', payload })
}
cases.push({ name: 'raw quote glued to the path', target: "/v2/rezept'--", headers: ['Authorization', KLEIN], servedBy: 'legacy', payload: "rezept'--" })
cases.push({ name: 'raw quote after a semicolon', target: "/v2/rezept;'OR'1'='1", headers: ['Authorization', KLEIN], servedBy: 'legacy', payload: "'OR'1'='1" })

// X-Tenant-Id: the legacy answers any non-empty one with an empty 500; the proxy must not pick a
// tenant from it.
for (const value of ["' OR 1=1--", '1; DROP TABLE arzsw_benutzer', '" OR ""="', Buffer.from('klein\u2019 OR 1=1', 'utf8').toString('latin1'), 'fastpath_apoti_gross']) {
  cases.push({ name: `X-Tenant-Id ${JSON.stringify(value)}`, target: '/v2/rezept?pageSize=2', headers: ['Authorization', KLEIN, 'X-Tenant-Id', value], servedBy: 'legacy', payload: value })
}

/** What both sides must agree on: status, Content-Type, bytes with the volatile parts blanked. */
function comparableAnswer(answer: RawAnswer): { status: number; contentType: string | undefined; body: string } {
  return { status: answer.status, contentType: headerValue(answer.headers, 'content-type'), body: maskVolatile(answer.body) }
}

/** Row count and content digest of every table of a database: "unchanged" means equal digests. */
async function tableDigests(url: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const tables = await client.query<{ name: string }>(`SELECT quote_ident(table_name) AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`)
    const digests: Record<string, string> = {}
    for (const { name } of tables.rows) {
      const row = await client.query<{ n: string; digest: string | null }>(`SELECT count(*)::text AS n, md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest FROM ${name} t`)
      digests[name] = `${row.rows[0]!.n} rows, ${row.rows[0]!.digest ?? 'empty'}`
    }
    return digests
  } finally {
    await client.end()
  }
}

const report = await seed({ adminUrl: pgAdminUrl(), prefix: 't_sqli_', rows: 300, kleinRows: 400 })
const arzswUrl = databaseUrl(report.databases.arzsw)
const watched = [arzswUrl, databaseUrl(report.databases.tenants.klein), databaseUrl(report.databases.tenants.gross)]
const before = await Promise.all(watched.map(tableDigests))
const sim = await startLegacySim({ arzswUrl, port: 0 })
t.teardown(() => sim.close())
// The uncached fast path: every fast answer runs its statements, so every payload meets SQL.
const proxy = await startInstance(t, { legacyUrl: sim.url, arzswUrl, fastPath: { cache: { routes: { 'v2.rezept.list': 'off', 'v2.rezept.pharmacy': 'off' } } } })
recording = true

t.test('the table covers every input', async (t) => {
  t.ok(cases.length >= 150, `${cases.length} cases`)
  t.equal(new Set(cases.map((c) => c.name)).size, cases.length, 'case names are unique')
  t.ok(cases.some((c) => c.servedBy === 'fast') && cases.some((c) => c.servedBy === 'legacy'), 'fast and legacy answers both')
})

t.test('a well-formed poll is answered fast with the legacy\'s bytes (the comparison works)', async (t) => {
  const direct = await rawExchange(sim.url, { method: 'GET', target: '/v2/rezept?pageSize=3', headers: ['Authorization', KLEIN] })
  const proxied = await rawExchange(proxy.url, { method: 'GET', target: '/v2/rezept?pageSize=3', headers: ['Authorization', KLEIN] })
  t.equal(direct.status, 200)
  t.match(headerValue(proxied.headers, 'server-timing'), /^fast;/)
  t.same(comparableAnswer(proxied), comparableAnswer(direct))
  t.ok(JSON.parse(direct.body.toString()).prescriptions.length > 0, 'a page with items')
})

for (const c of cases) {
  t.test(c.name, async (t) => {
    const request = { method: 'GET', target: c.target, headers: c.headers }
    const direct = await rawExchange(sim.url, request)
    const proxied = await rawExchange(proxy.url, request)
    t.same(comparableAnswer(proxied), comparableAnswer(direct), `same status, Content-Type and bytes (legacy ${direct.status})`)
    t.equal(headerValue(proxied.headers, 'server-timing')?.split(';')[0], c.servedBy, `answered by the ${c.servedBy}`)
    if (c.servedBy === 'fast') t.same(blankVolatile(proxied.body).malformed, [], 'timestamps in UtcNow form')
  })
}

t.test('afterwards: every table of ArzSw and the tenants holds the same rows', async (t) => {
  recording = false
  const after = await Promise.all(watched.map(tableDigests))
  for (let i = 0; i < watched.length; i++) {
    t.ok(Object.keys(before[i]!).length > 3, `${new URL(watched[i]!).pathname} has tables`)
    t.same(after[i], before[i], `${new URL(watched[i]!).pathname} unchanged`)
  }
})

t.test('no SQL text PostgreSQL received holds a payload: values are bound, not spliced', async (t) => {
  t.ok(sqlTexts.size > 3, `${sqlTexts.size} distinct statements seen`)
  t.ok([...sqlTexts].some((text) => text.includes('login_name = $1')), 'the login lookup was among them')
  const spliced = [...sqlTexts].filter((text) => cases.some((c) => text.includes(c.payload)))
  t.same(spliced.map((text) => text.slice(0, 200)), [], 'no statement contains request bytes')
  // The statements do not vary with the requests: far fewer texts than payloads sent.
  t.ok(sqlTexts.size < 40, `a fixed set of statements (${sqlTexts.size}) for ${cases.length} requests`)
})
