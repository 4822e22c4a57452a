// docs/legacy-contract.md §4 and §5 over HTTP with byte-exact bodies: which rows are new, per-type paging, clamping, 32-bit arithmetic, the field quirks.
import t, { type Test } from 'tap'
import { byDotnetInstant } from '../support/dotnet-time.ts'
import { basic, call, createSimFixture, PLAIN_USER, type SimFixture } from './sim-fixture.ts'

const PLAIN = { authorization: basic(PLAIN_USER.login, PLAIN_USER.password) }
const NOW = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,6}[1-9])?Z$/
const TRICKY_XML = "<Ärzt \"A&B\" +'x'>\n\t`\\/ 😀\u0001\u001f"
const TRICKY_JSON = '"<Ärzt \\"A&B\\" +\'x\'>\\n\\t`\\\\/ \\uD83D\\uDE00\\u0001\\u001F"'
const AVS = '"avsSystem":{"manufacturer":"GfAL","name":"ArzTi","version":"3.0"}'

/** Checks every volatile timestamp's form and replaces it with <now>. */
function stamped(t: Test, body: string): string {
  return body.replace(/"(delivery|response)Timestamp":"([^"]+)"/g, (_all, kind: string, value: string) => {
    t.match(value, NOW, `${kind}Timestamp has the UtcNow form`)
    return `"${kind}Timestamp":"<now>"`
  })
}

async function seed(f: SimFixture): Promise<void> {
  // eMuster16: 10 (two status rows, tricky XML, bigint above 2^53), 11 (three daten rows), 12 (transfer NULL only),
  // 13 (billed by its second status row), 14 (date without time)
  await f.insert('emuster16', { id: 10, number: '9007199254740993', rzLieferId: 'RZ-10', daten: [{ uuid: 'em-10', transfer: false, xml: TRICKY_XML }],
    status: [{ rezept: 'VOR_PRUEFUNG', abrechen: 'HINWEIS', datum: '2025-01-15', zeit: '13:45:10.25' }, { rezept: 'FEHLER', abrechen: 'FEHLER' }] })
  await f.insert('emuster16', { id: 11, number: null, rzLieferId: 'RZ-11', daten: [{ uuid: 'em-11a', transfer: true }, { uuid: 'em-11b', transfer: false, xml: '<b/>' }, { uuid: 'em-11c', transfer: false }] })
  await f.insert('emuster16', { id: 12, daten: [{ uuid: 'em-12', transfer: null }] })
  await f.insert('emuster16', { id: 13, daten: [{ uuid: 'em-13', transfer: false }], status: [{ rezept: 'GELESEN' }, { rezept: 'ABGERECHNET' }] })
  await f.insert('emuster16', { id: 14, number: '42', rzLieferId: 'RZ-14', daten: [{ uuid: 'em-14', transfer: false, xml: '<d/>' }], status: [{ rezept: 'GELESEN', abrechen: null, datum: '2024-02-29', zeit: null }] })
  // P-Rezept: 20 (int8 maximum, time without date), 21 (no number)
  await f.insert('prezept', { id: 20, number: '9223372036854775807', rzLieferId: 'RZ-20', daten: [{ uuid: 'p-20', transfer: false, xml: '<p/>' }], status: [{ rezept: 'VOR_ABRECHNUNG', abrechen: 'ABRECHENBAR', datum: null, zeit: '08:00:00' }] })
  await f.insert('prezept', { id: 21, number: null, rzLieferId: 'RZ-21', daten: [{ uuid: 'p-21', transfer: false, xml: '<q/>' }] })
  // E-Rezept: 30 (erezept_id, whole-second time), 31 (no erezept_id), 32 (collected)
  await f.insert('erezept', { id: 30, number: '160.000.100.000.001.07', rzLieferId: 'RZ-30', daten: [{ uuid: 'e-30', transfer: false, xml: '<e/>' }], status: [{ rezept: 'STORNIERT', abrechen: 'RUECKWEISUNG', datum: '2025-10-19', zeit: '10:30:00' }] })
  await f.insert('erezept', { id: 31, number: null, rzLieferId: 'RZ-31', daten: [{ uuid: 'e-31', transfer: false, xml: '<f/>' }] })
  await f.insert('erezept', { id: 32, daten: [{ uuid: 'e-32', transfer: true }] })
}

const ITEM: Record<number, string> = {
  14: '{"type":"eMuster16","id":14,"rezeptUuid":"em-14","xmlRequest":"<d/>","transferArz":false,"rzLieferId":"RZ-14","muster16Id":42,"transaktionsNummer":null,"erezeptId":null,"datenId":7,"regelTrefferCode":null,"checkLevel":"GELESEN","statusAbfrageDatum":"2024-02-29T00:00:00","statusAbfrageZeit":null,"deliveryTimestamp":"<now>",' + AVS + '}',
  11: '{"type":"eMuster16","id":11,"rezeptUuid":"em-11b","xmlRequest":"<b/>","transferArz":false,"rzLieferId":"RZ-11","muster16Id":null,"transaktionsNummer":null,"erezeptId":null,"datenId":3,"regelTrefferCode":null,"checkLevel":null,"statusAbfrageDatum":null,"statusAbfrageZeit":null,"deliveryTimestamp":"<now>",' + AVS + '}',
  10: '{"type":"eMuster16","id":10,"rezeptUuid":"em-10","xmlRequest":' + TRICKY_JSON + ',"transferArz":false,"rzLieferId":"RZ-10","muster16Id":9007199254740993,"transaktionsNummer":null,"erezeptId":null,"datenId":1,"regelTrefferCode":"HINWEIS","checkLevel":"VOR_PRUEFUNG","statusAbfrageDatum":"2025-01-15T00:00:00","statusAbfrageZeit":"2025-01-15T13:45:10.25","deliveryTimestamp":"<now>",' + AVS + '}',
  21: '{"type":"P-Rezept","id":21,"rezeptUuid":"p-21","xmlRequest":"<q/>","transferArz":false,"rzLieferId":null,"muster16Id":null,"transaktionsNummer":null,"erezeptId":null,"datenId":2,"regelTrefferCode":null,"checkLevel":null,"statusAbfrageDatum":null,"statusAbfrageZeit":null,"deliveryTimestamp":"<now>",' + AVS + '}',
  20: '{"type":"P-Rezept","id":20,"rezeptUuid":"p-20","xmlRequest":"<p/>","transferArz":false,"rzLieferId":null,"muster16Id":null,"transaktionsNummer":9223372036854775807,"erezeptId":null,"datenId":1,"regelTrefferCode":"ABRECHENBAR","checkLevel":"VOR_ABRECHNUNG","statusAbfrageDatum":null,"statusAbfrageZeit":null,"deliveryTimestamp":"<now>",' + AVS + '}',
  31: '{"type":"E-Rezept","id":31,"rezeptUuid":"e-31","xmlRequest":"<f/>","transferArz":false,"rzLieferId":null,"muster16Id":null,"transaktionsNummer":null,"erezeptId":null,"datenId":2,"regelTrefferCode":null,"checkLevel":null,"statusAbfrageDatum":null,"statusAbfrageZeit":null,"deliveryTimestamp":"<now>",' + AVS + '}',
  30: '{"type":"E-Rezept","id":30,"rezeptUuid":"e-30","xmlRequest":"<e/>","transferArz":false,"rzLieferId":null,"muster16Id":null,"transaktionsNummer":null,"erezeptId":"160.000.100.000.001.07","datenId":1,"regelTrefferCode":"RUECKWEISUNG","checkLevel":"STORNIERT","statusAbfrageDatum":"2025-10-19T00:00:00","statusAbfrageZeit":"2025-10-19T10:30:00","deliveryTimestamp":"<now>",' + AVS + '}',
}

function listBody(ids: number[], totalCount: number, page: number, pageSize: number, hasNextPage: boolean, environment = 'Development'): string {
  return '{"prescriptions":[' + ids.map((id) => ITEM[id]).join(',') + '],"totalCount":' + totalCount + ',"page":' + page + ',"pageSize":' + pageSize +
    ',"hasNextPage":' + hasNextPage + ',"environment":"' + environment + '","responseTimestamp":"<now>"}'
}

const f = await createSimFixture('list')
t.teardown(() => f.close())
await seed(f)

async function get(path: string) {
  return call(f.sim.url, path, { headers: PLAIN })
}

t.test('without type: each type paged on its own, newest first, concatenated eMuster16, P-Rezept, E-Rezept', async (t) => {
  const r = await get('/v2/rezept')
  t.equal(r.status, 200)
  t.equal(r.headers.get('content-type'), 'application/json; charset=utf-8')
  t.equal(stamped(t, r.body), listBody([14, 11, 10, 21, 20, 31, 30], 7, 1, 100, false))
})

t.test('a page holds up to pageSize items of every type, and totalCount sums the types', async (t) => {
  t.equal(stamped(t, (await get('/v2/rezept?page=2&pageSize=1')).body), listBody([11, 20, 30], 7, 2, 1, true))
  t.equal(stamped(t, (await get('/v2/rezept?page=3&pageSize=1')).body), listBody([10], 7, 3, 1, true), 'types run out at different pages')
  t.equal(stamped(t, (await get('/v2/rezept?page=2&pageSize=2')).body), listBody([10], 7, 2, 2, true))
  t.equal(stamped(t, (await get('/v2/rezept?page=4&pageSize=2')).body), listBody([], 7, 4, 2, false))
})

t.test('type filters case-insensitively; empty means all; unknown matches nothing', async (t) => {
  t.equal(stamped(t, (await get('/v2/rezept?type=p-REZEPT')).body), listBody([21, 20], 2, 1, 100, false))
  t.equal(stamped(t, (await get('/v2/rezept?type=EMUSTER16&pageSize=2')).body), listBody([14, 11], 3, 1, 2, true))
  t.equal(stamped(t, (await get('/v2/rezept?type=')).body), listBody([14, 11, 10, 21, 20, 31, 30], 7, 1, 100, false))
  t.equal(stamped(t, (await get('/v2/rezept?type=+%09')).body), listBody([14, 11, 10, 21, 20, 31, 30], 7, 1, 100, false), 'white space binds as null: all types')
  t.equal(stamped(t, (await get('/v2/rezept?type=eRezept')).body), listBody([], 0, 1, 100, false), 'the v1 spelling is unknown in v2')
})

t.test('pageSize=0 gives an empty list and hasNextPage 0 < totalCount', async (t) => {
  t.equal(stamped(t, (await get('/v2/rezept?pageSize=0')).body), listBody([], 7, 1, 0, true))
})

t.test('a negative OFFSET or LIMIT fails the query: 500 with the text', async (t) => {
  for (const query of ['page=0', 'page=-3', 'pageSize=-1', 'page=2147483647&pageSize=2']) {
    const r = await get(`/v2/rezept?${query}`)
    t.equal(r.status, 500, query)
    t.equal(r.body, 'Internal server error occurred while retrieving prescriptions', query)
  }
})

t.test('with an unknown type no query runs, so page=-1 is a 200 with hasNextPage computed', async (t) => {
  t.equal(stamped(t, (await get('/v2/rezept?page=-1&type=x')).body), listBody([], 0, -1, 100, true))
})

t.test('OFFSET wraps in 32-bit arithmetic: (1073741825-1)*4 is 0, so page 1073741825 shows the first rows', async (t) => {
  t.equal(stamped(t, (await get('/v2/rezept?page=1073741825&pageSize=4')).body), listBody([14, 11, 10, 21, 20, 31, 30], 7, 1073741825, 4, true))
})

t.test('hasNextPage wraps in 32-bit arithmetic: 536870912*4 is negative, so it is true past the end', async (t) => {
  t.equal(stamped(t, (await get('/v2/rezept?page=536870912&pageSize=4')).body), listBody([], 7, 536870912, 4, true))
})

t.test('GET /v2/rezept/status ignores pharmacyId and answers like /v2/rezept, with its own 500 text', async (t) => {
  t.equal(stamped(t, (await get('/v2/rezept/status?pharmacyId=123&pageSize=1&page=2')).body), listBody([11, 20, 30], 7, 2, 1, true))
  const failed = await get('/v2/rezept/status?page=0')
  t.equal(failed.status, 500)
  t.equal(failed.body, 'Internal server error occurred while retrieving pharmacy prescriptions')
  t.equal((await get('/v2/rezept/status?pageSize=x')).status, 400)
})

t.test('each item takes its own deliveryTimestamp as the list is built', async (t) => {
  const body = (await get('/v2/rezept')).body
  const stamps = [...body.matchAll(/"deliveryTimestamp":"([^"]+)"/g)].map((m) => m[1]!)
  t.equal(stamps.length, 7)
  t.same([...stamps].sort(byDotnetInstant), stamps, 'non-decreasing in list order')
})

t.test('a database failure is the 500 text', async (t) => {
  await f.apoti.query('ALTER TABLE er_senderezepte_prezept_daten RENAME TO prezept_daten_away')
  t.teardown(() => f.apoti.query('ALTER TABLE prezept_daten_away RENAME TO er_senderezepte_prezept_daten'))
  const r = await get('/v2/rezept')
  t.equal(r.status, 500)
  t.equal(r.body, 'Internal server error occurred while retrieving prescriptions')
})

t.test('pageSize is clamped to MaxPageSize and the clamped value echoed', async (t) => {
  const small = await createSimFixture('list_clamp', { maxPageSize: 2, environment: 'Staging' })
  t.teardown(() => small.close())
  await seed(small)
  const r = await call(small.sim.url, '/v2/rezept?pageSize=5', { headers: PLAIN })
  t.equal(stamped(t, r.body), listBody([14, 11, 21, 20, 31, 30], 7, 1, 2, true, 'Staging'))
  const below = await call(small.sim.url, '/v2/rezept?pageSize=1', { headers: PLAIN })
  t.equal(stamped(t, below.body), listBody([14, 21, 31], 7, 1, 1, true, 'Staging'), 'smaller sizes pass unchanged')
})
