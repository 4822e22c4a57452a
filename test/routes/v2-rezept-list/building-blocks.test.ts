// The fast path's small parts on their own: escaping, date forms, query binding, Basic parsing, connection strings, settings, circuit.
import t from 'tap'
import { parseBasicCredentials } from '../../../auth/basic-credentials.ts'
import { CircuitBreaker } from '../../../tenants/circuit-breaker.ts'
import { dateAndTime, dateAtMidnight, UnrepresentableDateError, utcNowText } from '../../../json/dotnet-time.ts'
import { JsonBytes } from '../../../json/json-bytes.ts'
import { parseTenantDatabase, UnusableConnectionStringError } from '../../../tenants/npgsql-connection-string.ts'
import { deferReasonForDatabaseFailure, asError } from '../../../routes/v2-rezept-list/database-failure.ts'
import { parseListRequest } from '../../../routes/v2-rezept-list/request.ts'
import { fastPathSettings } from '../../../routes/v2-rezept-list/settings.ts'
import { OPTIONS } from '../../../config/schema.ts'
import { EventBus, type ProxyEvent } from '../../../core/events.ts'

function escaped(text: string): string {
  const out = new JsonBytes()
  out.string(text)
  return out.toBuffer().toString('utf8')
}

// Every code point against the measured table: json-escaping.test.ts.
t.test('strings are escaped as the legacy\'s relaxed System.Text.Json encoder writes them (docs/legacy-contract.md §1)', async (t) => {
  t.equal(escaped('<Ärzt "A&B">'), '"<Ärzt \\"A&B\\">"', 'the example of legacy-contract.md §1')
  t.equal(escaped("'+`/\\"), '"\'+`/\\\\"', 'apostrophe, plus, backtick and slash as themselves; backslash escaped')
  t.equal(escaped('\b\f\n\r\t\u0000\u001f\u007f\u00a0'), '"\\b\\f\\n\\r\\t\\u0000\\u001F\\u007F\\u00A0"', 'controls and NBSP')
  t.equal(escaped('😀ß€\u00ad'), '"\\uD83D\\uDE00ß€\u00ad"', 'above U+FFFF as upper-case surrogates; letters, € and the soft hyphen in UTF-8')
  t.equal(escaped('plain text, no escapes'), '"plain text, no escapes"', 'a run without escapes in one go')
  t.equal(escaped(''), '""')
})

t.test('the byte buffer grows past its first capacity and is reused after reset', async (t) => {
  const out = new JsonBytes()
  const big = '\u2028'.repeat(300_000) // escaped as six bytes each: 1.8 MB, past the 1 MiB start
  out.string(big)
  t.equal(out.length, 300_000 * 6 + 2)
  out.reset()
  out.ascii('x')
  out.bytes(Buffer.from('yz'))
  out.nullableString(null)
  t.equal(out.toBuffer().toString(), 'xyznull')
})

t.test('date and time columns take the legacy forms; unsure values are refused', async (t) => {
  t.equal(dateAtMidnight('2025-01-15'), '2025-01-15T00:00:00')
  t.equal(dateAndTime('2025-01-15', '13:45:10'), '2025-01-15T13:45:10')
  t.equal(dateAndTime('2025-01-15', '13:45:10.250000'), '2025-01-15T13:45:10.25', 'trailing zeros dropped')
  t.equal(dateAndTime('2025-01-15', '13:45:10.000'), '2025-01-15T13:45:10', 'a zero fraction is not written')
  t.equal(dateAndTime('2025-01-15', '08:00:00.123456'), '2025-01-15T08:00:00.123456')
  t.throws(() => dateAtMidnight('2025-01-15 BC'), UnrepresentableDateError)
  t.throws(() => dateAndTime('2025-01-15', '24:00:00'), UnrepresentableDateError)
  t.throws(() => dateAndTime('20250-01-15', '10:00:00'), UnrepresentableDateError)
})

t.test('UtcNow text has up to 7 fraction digits without trailing zeros, and consecutive values differ', async (t) => {
  const seen = new Set<string>()
  for (let i = 0; i < 50; i++) {
    const now = utcNowText()
    t.match(now, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{0,6}[1-9])?Z$/)
    seen.add(now)
  }
  t.ok(seen.size > 40, `${seen.size} distinct values of 50`)
  const drift = Math.abs(Date.parse(utcNowText()) - Date.now())
  t.ok(drift < 1500, `close to the wall clock (${drift} ms)`)
})

t.test('list requests: canonical values are read, everything else defers', async (t) => {
  const read = (url: string, pharmacy = false) => parseListRequest(url, pharmacy, 500, 1000)
  const ok = read('/v2/rezept?page=3&pageSize=501&type=E-REZEPT')
  t.ok(ok.ok && ok.request.page === 3 && ok.request.pageSize === 500 && ok.request.offset === 1000 && ok.request.types.length === 1)
  const none = read('/v2/rezept?type=nix')
  t.ok(none.ok && none.request.types.length === 0, 'unknown type: no types')
  const all = read('/v2/rezept')
  t.ok(all.ok && all.request.types.length === 3 && all.request.pageSize === 100 && all.request.page === 1, 'defaults')
  t.same(read('/v2/rezept/status?pharmacyId=1&pharmacyId=2', true), { ok: false, reason: 'query' })
  t.ok(read('/v2/rezept?pharmacyId=1&pharmacyId=2').ok, 'pharmacyId is unknown on the list route')
  t.same(read('/v2/rezept?pageSize=1001&x=1'.replace('1001', '600')), { ok: true, request: { types: all.ok ? all.request.types : [], page: 1, pageSize: 500, offset: 0 } })
  t.same(parseListRequest('/v2/rezept?pageSize=600', false, 5000, 500), { ok: false, reason: 'page-size-limit' })
  for (const bad of ['?page=0', '?page=-1', '?page=01', '?page=+1', '?page=1&page=1', '?type=a&type=a', '?type=%41', '?pa%67e=1', '?page=4294968&pageSize=500',
    '?page=99999999999', '?page', '?pageSize', '?x=1#f', '?Page+=1', '?t\u00FFpe=1']) {
    t.same(read('/v2/rezept' + bad), { ok: false, reason: 'query' }, bad)
  }
})

t.test('Basic credentials are read only in the legacy\'s exact form', async (t) => {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64')
  t.same(parseBasicCredentials(`Basic ${b64('u:p:q')}`), { user: 'u', password: 'p:q' }, 'split at the first colon')
  t.same(parseBasicCredentials(`bAsIc ${b64('ü:ß')}`), { user: 'ü', password: 'ß' })
  t.equal(parseBasicCredentials(undefined), null)
  t.equal(parseBasicCredentials(['Basic x']), null)
  t.equal(parseBasicCredentials('Basic'), null)
  t.equal(parseBasicCredentials('Basicx' + b64('u:p')), null)
  t.equal(parseBasicCredentials('Bearer ' + b64('u:p')), null)
  t.equal(parseBasicCredentials('Basic ' + b64('nocolon')), null)
  t.equal(parseBasicCredentials('Basic ' + Buffer.from([0xff, 0x3a, 0x61]).toString('base64')), null, 'invalid UTF-8')
  t.equal(parseBasicCredentials('Basic abc'), null, 'not whole groups of four')
})

t.test('Npgsql connection strings: synonyms, case, quotes; unknown or odd forms refused', async (t) => {
  const a = parseTenantDatabase('Server=DB.example;Port=6432;Database=apoti;User ID=arz;Pwd="p;w""d";Maximum Pool Size=20')
  t.same([a.host, a.port, a.database, a.user, a.password, a.label], ['DB.example', 6432, 'apoti', 'arz', 'p;w"d', 'db.example:6432/apoti'])
  t.notMatch(a.label, /p;w/, 'the label carries no password')
  const b = parseTenantDatabase("host=db.example; PORT = 6432 ;DB='apoti';uid=arz;password='p;w\"d'")
  t.equal(a.identity, b.identity, 'same database and role, other spelling: same identity')
  t.equal(parseTenantDatabase('Host=h;Username=u').database, 'u', 'the database defaults to the user name')
  t.equal(parseTenantDatabase('Host=h;Username=u').port, 5432)
  for (const bad of ['Host=h;SSL Mode=Require;Username=u', 'Host=a,b;Username=u', 'Host=h', 'Username=u', 'Host=h;Port=x;Username=u',
    'Host=h;Username=u;Database="unterminated', 'Host=h;Username=u;junk', 'Host=h;Server=other;Username=u', 'Host=h;Username=u;Password="a" b',
    'Host=h;Username==u']) {
    t.throws(() => parseTenantDatabase(bad), UnusableConnectionStringError, bad)
  }
})

t.test('settings: defaults filled, descriptions for each, bad values refused by name', async (t) => {
  const s = fastPathSettings({ arzswUrl: 'postgres://x@h/db', pool: { maxSize: 3 } })
  t.equal(s.maxPageSize, 500)
  t.equal(s.environment, 'Development')
  t.same(s.avsSystem, { manufacturer: 'GfAL', name: 'ArzTi', version: '3.0' })
  t.equal(s.pool.maxSize, 3)
  const option = (name: string) => OPTIONS.find((o) => o.name === name)
  t.equal(s.pool.connectTimeoutMs, option('fastPath.pool.connectTimeoutMs')?.default)
  t.ok(Object.isFrozen(s) && Object.isFrozen(s.pool))
  t.ok(option('fastPath.pool.maxSize')?.description && option('fastPath.preparedStatements')?.description)
  // Refused through the one schema (config/load.ts), with the option named as `npm start` would.
  t.throws(() => fastPathSettings({ arzswUrl: 'postgres://x@h/db', maxPageSize: 0 }), /maxPageSize/)
  t.throws(() => fastPathSettings({ arzswUrl: 'postgres://x@h/db', maxPageSize: 2 ** 31 }), /maxPageSize: must be an integer from 1 to 2147483647/)
  t.throws(() => fastPathSettings({ arzswUrl: 'postgres://x@h/db', userRowRefreshMs: 70_000 }), /userRowRefreshMs/)
  t.throws(() => fastPathSettings({ arzswUrl: 'mysql://x' }), /arzswUrl/)
  const loose = (input: Record<string, unknown>) => () => fastPathSettings({ arzswUrl: 'postgres://x@h/db', ...input })
  t.throws(loose({ maxPageSiz: 5 }), /fastPath.maxPageSiz: unknown option; known in fastPath: .*fastPath.authCacheTtlMs/)
  t.throws(loose({ pool: { max: 5 } }), /fastPath.pool.max: unknown option/)
  t.throws(loose({ pool: 5 }), /fastPath.pool: must be an object/)
  t.throws(loose({ preparedStatements: 'yes' }), /fastPath.preparedStatements: must be true or false/)
  t.throws(loose({ environment: 5 }), /environment: must be a string/)
})

t.test('database failures map to deferral reasons', async (t) => {
  t.equal(deferReasonForDatabaseFailure(Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }), false), 'db-timeout')
  t.equal(deferReasonForDatabaseFailure(new Error('timeout exceeded when trying to connect'), true), 'pool-busy')
  t.equal(deferReasonForDatabaseFailure(new Error('timeout exceeded when trying to connect'), false), 'db-timeout')
  t.equal(deferReasonForDatabaseFailure(new Error('Query read timeout'), false), 'db-timeout')
  t.equal(deferReasonForDatabaseFailure(new Error('connect ECONNREFUSED'), false), 'db-error')
  t.equal(deferReasonForDatabaseFailure('weird', false), 'db-error')
  t.equal(asError('x').message, 'x')
})

t.test('the circuit opens after the threshold, admits one trial after the pause, and closes on success', async (t) => {
  let now = 0
  const bus = new EventBus()
  const seen: ProxyEvent[] = []
  bus.on((e) => seen.push(e))
  const breaker = new CircuitBreaker({ failureThreshold: 2, openMs: 100, events: bus, now: () => now })
  breaker.succeeded('db')
  t.ok(breaker.allows('db'))
  breaker.failed('db')
  t.equal(breaker.stateOf('db'), 'closed')
  breaker.failed('db')
  t.equal(breaker.stateOf('db'), 'open')
  t.notOk(breaker.allows('db'))
  now = 150
  t.ok(breaker.allows('db'), 'one trial')
  t.notOk(breaker.allows('db'), 'only one')
  breaker.failed('db')
  t.equal(breaker.stateOf('db'), 'open', 'a failed trial opens again')
  now = 300
  t.ok(breaker.allows('db'))
  breaker.succeeded('db')
  t.equal(breaker.stateOf('db'), 'closed')
  t.same(seen.map((e) => e.type === 'circuit.changed' ? e.state : ''), ['open', 'half-open', 'open', 'half-open', 'closed'])
})
