// The simulator's pure pieces: System.Text.Json escaping and date forms, the Npgsql parser, query binding, route matching.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { jsonDateAndTime, jsonDateAtMidnight, jsonString, jsonUtcNow } from '../../legacy-sim/json-text.ts'
import { parseKeywordPairs, parseNpgsqlConnectionString } from '../../legacy-sim/npgsql-settings.ts'
import { equalsOrdinalIgnoreCase } from '../../legacy-sim/prescription-tables.ts'
import { bindInt, readQuery } from '../../legacy-sim/query-binding.ts'
import { canonicalVersion, pathSegments } from '../../legacy-sim/route-table.ts'
import { parseSimulatorConfig } from '../../legacy-sim/simulator-config.ts'

// Every code point against the measured table: test/json/json-escaping.test.ts.
t.test('strings are escaped the way the legacy\'s relaxed System.Text.Json encoder does', async (t) => {
  t.equal(jsonString('<Ärzt "A&B">'), '"<Ärzt \\"A&B\\">"', 'the docs/legacy-contract.md §1 example')
  t.equal(jsonString('Prüf+<1>'), '"Prüf+<1>"', 'the other docs/legacy-contract.md §1 example')
  t.equal(jsonString("+'`\\/"), '"+\'`\\\\/"', 'plus, apostrophe, backtick and slash kept; backslash escaped')
  t.equal(jsonString('\b\f\n\r\t'), '"\\b\\f\\n\\r\\t"', 'the five short escapes')
  t.equal(jsonString('\u0001\u001f\u007f'), '"\\u0001\\u001F\\u007F"', 'other control characters as \\u00XX, uppercase hex')
  t.equal(jsonString('ß€😀\u00a0\u2028'), '"ß€\\uD83D\\uDE00\\u00A0\\u2028"', 'letters and € in UTF-8; above U+FFFF as two surrogates; NBSP and U+2028 as uppercase \\uXXXX')
  t.equal(jsonString('plain ASCII 123 ~!#$%()*,-.:;=?@[]^_{|}'), '"plain ASCII 123 ~!#$%()*,-.:;=?@[]^_{|}"', 'other printable ASCII unchanged')
  t.equal(jsonString(''), '""')
})

t.test('dates are written as .NET DateTime values', async (t) => {
  t.equal(jsonDateAtMidnight('2025-01-15'), '"2025-01-15T00:00:00"')
  t.equal(jsonDateAtMidnight(null), 'null')
  t.equal(jsonDateAndTime('2025-01-15', '13:45:10'), '"2025-01-15T13:45:10"', 'no fraction when whole seconds')
  t.equal(jsonDateAndTime('2025-01-15', '13:45:10.250000'), '"2025-01-15T13:45:10.25"', 'trailing zeros of the fraction dropped')
  t.equal(jsonDateAndTime('2025-01-15', '13:45:10.000'), '"2025-01-15T13:45:10"', 'an all-zero fraction disappears')
  t.equal(jsonDateAndTime('2025-01-15', null), 'null', 'null unless both parts are set')
  t.equal(jsonDateAndTime(null, '13:45:10'), 'null')
  for (let i = 0; i < 50; i++) t.match(jsonUtcNow(), /^"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,6}[1-9])?Z"$/, 'now has at most 7 fraction digits, no trailing zero, Z')
})

t.test('Npgsql connection strings are parsed with synonyms, any key case and quoting', async (t) => {
  t.same(parseNpgsqlConnectionString('Host=db1;Port=6543;Database=apo;Username=u;Password=p'),
    { host: 'db1', port: 6543, database: 'apo', user: 'u', password: 'p', maxPoolSize: 100 })
  t.same(parseNpgsqlConnectionString(`SERVER = db2 ; initial catalog=x;USER ID=me;PWD='it''s;secret';Maximum Pool Size=7;Pooling=true`),
    { host: 'db2', port: 5432, database: 'x', user: 'me', password: "it's;secret", maxPoolSize: 7 })
  t.same(parseNpgsqlConnectionString('Server=a,b;Uid=me;Psw="x""y";Max Pool Size=3;User Name=you'),
    { host: 'a', port: 5432, database: 'you', user: 'you', password: 'x"y', maxPoolSize: 3 }, 'last key wins, database defaults to the user')
  t.same([...parseKeywordPairs('A=1;;b= 2 ;')], [['a', '1'], ['b', '2']], 'empty segments ignored, values trimmed')
  t.throws(() => parseNpgsqlConnectionString('Host=x;Port=abc'), /port must be a positive integer/)
  t.throws(() => parseNpgsqlConnectionString("Host='x"), /unterminated/)
  t.throws(() => parseNpgsqlConnectionString("Host='x' y"), /after a quoted value/)
  t.throws(() => parseNpgsqlConnectionString('Host=x;garbage'), /without a value/)
})

t.test('query names are case-insensitive and the first value wins', async (t) => {
  const q = readQuery('PAGE=2&page=3&Type=e+Rezept&type=x&PageSize=%35')
  t.equal(q.get('page'), '2')
  t.equal(q.get('type'), 'e Rezept', '+ decodes to a space')
  t.equal(q.get('pagesize'), '5')
  // Only the target's first `?` opens the query (docs/legacy-contract.md §3, measured): a second one starts the first name.
  const doubled = readQuery('?pageSize=2')
  t.equal(doubled.get('pagesize'), undefined, '??pageSize=2 sets no pageSize')
  t.equal(doubled.get('?pagesize'), '2', 'its first name is ?pageSize')
})

t.test('integers bind like MVC Int32Converter', async (t) => {
  const bind = (v: string | undefined) => bindInt(new Map(v === undefined ? [] : [['page', v]]), 'page', 1)
  t.same(bind(undefined), { ok: true, value: 1 }, 'absent: default')
  t.same(bind(' +7 '), { ok: true, value: 7 }, 'sign and white space allowed')
  t.same(bind('-2147483648'), { ok: true, value: -2147483648 })
  t.same(bind('0x10'), { ok: true, value: 16 }, 'hex after 0x (TypeConverter quirk)')
  t.same(bind('#FFFFFFFF'), { ok: true, value: -1 }, 'hex wraps like Convert.ToInt32(s, 16)')
  t.same(bind('abc'), { ok: false, message: "The value 'abc' is not valid." })
  t.same(bind('1.5'), { ok: false, message: "The value '1.5' is not valid." })
  t.same(bind('2147483648'), { ok: false, message: "The value '2147483648' is not valid." }, 'out of int32 range')
  t.same(bind('0xZZ'), { ok: false, message: "The value '0xZZ' is not valid." })
  t.same(bind(''), { ok: false, message: "The value '' is invalid." }, 'empty value')
})

t.test('type names compare like OrdinalIgnoreCase', async (t) => {
  t.ok(equalsOrdinalIgnoreCase('E-REZEPT', 'E-Rezept'))
  t.ok(equalsOrdinalIgnoreCase('emuſter16', 'eMuster16'), 'long s upper-cases to S')
  t.notOk(equalsOrdinalIgnoreCase('E-Rezepte', 'E-Rezept'))
  t.notOk(equalsOrdinalIgnoreCase('P-Rezepz', 'P-Rezept'))
})

t.test('route pieces: versions and path segments', async (t) => {
  t.equal(canonicalVersion('2'), '2.0')
  t.equal(canonicalVersion('2.0'), '2.0')
  t.equal(canonicalVersion('1.0'), '1.0')
  t.equal(canonicalVersion('abc'), null)
  t.same(pathSegments('/V2/Rezept/'), ['V2', 'Rezept'], 'trailing slash ignored')
  t.same(pathSegments('/api/Apotheken/%31'), ['api', 'Apotheken', '1'], 'percent-decoded')
  t.equal(pathSegments('/%E0%A4%A'), null, 'undecodable path')
})

t.test('options are validated once, naming the option', async (t) => {
  t.same(parseSimulatorConfig([], {}), { port: 5100, host: '127.0.0.1', arzswUrl: 'postgres://postgres@127.0.0.1:5432/fastpath_arzsw', maxPageSize: 500, environment: 'Development', timeZone: 'Europe/Berlin' })
  t.same(parseSimulatorConfig(['--port', '0', '--host=::1'], { ARZSW_URL: 'postgres://x@h/db', LEGACY_MAX_PAGE_SIZE: '1000', LEGACY_ENVIRONMENT: 'Live', LEGACY_TIME_ZONE: 'UTC' }),
    { port: 0, host: '::1', arzswUrl: 'postgres://x@h/db', maxPageSize: 1000, environment: 'Live', timeZone: 'UTC' })
  t.throws(() => parseSimulatorConfig([], { LEGACY_TIME_ZONE: 'Mars/Olympus' }), /LEGACY_TIME_ZONE must be an IANA time zone/)
  t.equal(parseSimulatorConfig([], { PORT: '6000' }).port, 6000)
  t.throws(() => parseSimulatorConfig(['--port', 'x'], {}), /--port\/PORT must be a non-negative integer/)
  t.throws(() => parseSimulatorConfig(['--port', '70000'], {}), /at most 65535/)
  t.throws(() => parseSimulatorConfig(['--verbose', '1'], {}), /unknown option --verbose/)
  t.throws(() => parseSimulatorConfig(['--port'], {}), /needs a value/)
  t.throws(() => parseSimulatorConfig([], { LEGACY_MAX_PAGE_SIZE: '0' }), /LEGACY_MAX_PAGE_SIZE must be a positive integer/)
  t.throws(() => parseSimulatorConfig([], { ARZSW_URL: 'not a url' }), /ARZSW_URL/)
  t.throws(() => parseSimulatorConfig([], { TLS_CERT_FILE: '/nonexistent/cert.pem' }), /TLS_CERT_FILE and TLS_KEY_FILE: set both/)
  t.throws(() => parseSimulatorConfig([], { TLS_CERT_FILE: '/nonexistent/cert.pem', TLS_KEY_FILE: '/nonexistent/key.pem' }), /TLS_CERT_FILE \(\/nonexistent\/cert.pem\) cannot be read: ENOENT/)
  const pem = new URL(import.meta.url).pathname // any readable file: the simulator leaves parsing to node:https
  t.same(parseSimulatorConfig([], { TLS_CERT_FILE: pem, TLS_KEY_FILE: pem }).tls?.cert.length, readFileSync(pem, 'utf8').length, 'both set: read for HTTPS')
})
