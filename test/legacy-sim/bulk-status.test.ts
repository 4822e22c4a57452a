// docs/legacy-contract.md §6 (PATCH statusuuid, a read over the §4 window) and §7 (PATCH status, one transaction with per-item errors) over HTTP.
import t from 'tap'
import { DEFAULT_TIME_ZONE, serverToday } from '../../legacy-sim/server-date.ts'
import { basic, call, createSimFixture, PLAIN_USER } from './sim-fixture.ts'

const JSON_AUTH = { authorization: basic(PLAIN_USER.login, PLAIN_USER.password), 'content-type': 'application/json' }
const TRACE_ID = /"traceId":"00-[0-9a-f]{32}-[0-9a-f]{16}-00"/
const NOW = /"responseTimestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,6}[1-9])?Z"/

const f = await createSimFixture('bulk')
t.teardown(() => f.close())
await f.insert('emuster16', { id: 1, daten: [{ uuid: 'm-1', transfer: false }], status: [{ rezept: 'FEHLER', abrechen: 'VERBESSERBAR', datum: '2025-03-01', zeit: '09:00:00' }] })
await f.insert('emuster16', { id: 2, daten: [{ uuid: 'm-2', transfer: false }] })
await f.insert('prezept', { id: 5, daten: [{ uuid: 'p-5', transfer: false }], status: [{ rezept: 'HINWEIS', abrechen: null }] })
await f.insert('erezept', { id: 7, daten: [{ uuid: 'e-7', transfer: false }] })
await f.insert('erezept', { id: 8, daten: [{ uuid: 'e-8', transfer: true }] }) // collected: outside the window

async function patch(path: string, body: string, headers: Record<string, string> = JSON_AUTH) {
  const r = await call(f.sim.url, path, { method: 'PATCH', headers, body })
  return { ...r, body: r.body.replace(NOW, '"responseTimestamp":"<now>"') }
}

t.test('statusuuid lists the asked prescriptions in window order, with not-found entries per distinct uuid', async (t) => {
  const r = await patch('/v2/rezept/statusuuid', '{"rezeptUuids":["e-7","nope","m-1","e-8","nope","p-5"]}')
  t.equal(r.status, 200)
  t.equal(r.body, '{"prescriptions":[' +
    '{"rezeptUuid":"m-1","type":"eMuster16","transferArz":false,"status":"FEHLER","regelTrefferCode":"VERBESSERBAR","checkLevel":"FEHLER","errorMessages":[],"lastUpdated":"2025-03-01T00:00:00"},' +
    '{"rezeptUuid":"p-5","type":"P-Rezept","transferArz":false,"status":"HINWEIS","regelTrefferCode":null,"checkLevel":"HINWEIS","errorMessages":[],"lastUpdated":null},' +
    '{"rezeptUuid":"e-7","type":"E-Rezept","transferArz":false,"status":null,"regelTrefferCode":null,"checkLevel":null,"errorMessages":[],"lastUpdated":null}],' +
    '"totalCount":6,"successCount":3,"errorCount":3,"globalErrors":["Prescription not found: nope","Prescription not found: e-8"],"responseTimestamp":"<now>"}')
})

t.test('statusuuid rejects a null, empty or oversized list', async (t) => {
  const nullList = await patch('/v2/rezept/statusuuid', '{"rezeptUuids":null}')
  t.equal(nullList.status, 400)
  t.equal(nullList.body.replace(TRACE_ID, '"traceId":"<id>"'),
    '{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"One or more validation errors occurred.","status":400,"errors":{"RezeptUuids":["The RezeptUuids field is required."]},"traceId":"<id>"}')
  for (const body of ['{"rezeptUuids":[]}', '{}', '{"REZEPTUUIDS":[]}']) {
    const empty = await patch('/v2/rezept/statusuuid', body)
    t.equal(empty.status, 400, body)
    t.equal(empty.body, 'RezeptUuids list cannot be empty', body)
    t.equal(empty.headers.get('content-type'), 'text/plain; charset=utf-8')
  }
  const many = await patch('/v2/rezept/statusuuid', JSON.stringify({ rezeptUuids: Array.from({ length: 1001 }, (_, i) => `u${i}`) }))
  t.equal(many.status, 400)
  t.equal(many.body, 'Bulk operation limited to 1000 items')
  const exactly = await patch('/v2/rezept/statusuuid', JSON.stringify({ rezeptUuids: Array.from({ length: 1000 }, (_, i) => `u${i}`) }))
  t.equal(exactly.status, 200, '1000 is allowed')
  t.match(exactly.body, /"totalCount":1000,"successCount":0,"errorCount":1000/)
})

t.test('statusuuid only sees the §4 window of page 1 × 1000 per type', async (t) => {
  const w = await createSimFixture('bulk_window')
  t.teardown(() => w.close())
  await w.apoti.query(`INSERT INTO er_senderezepte_emuster16 (id_senderezepte_emuster16, id_senderezepte_header, rz_liefer_id) SELECT g, 1, 'RZ' FROM generate_series(1, 1001) g`)
  await w.apoti.query(`INSERT INTO er_senderezepte_emuster16_daten (id_senderezepte_emuster16, rezept_uuid, transfer_arz, xml_request) SELECT g, 'w-' || g, false, '<x/>' FROM generate_series(1, 1001) g`)
  const r = await call(w.sim.url, '/v2/rezept/statusuuid', { method: 'PATCH', headers: JSON_AUTH, body: '{"rezeptUuids":["w-1","w-2","w-1001"]}' })
  t.equal(r.status, 200)
  t.match(r.body, /^\{"prescriptions":\[\{"rezeptUuid":"w-1001".*\{"rezeptUuid":"w-2".*\],"totalCount":3,"successCount":2,"errorCount":1,"globalErrors":\["Prescription not found: w-1"\]/, 'the oldest row is outside the window; window order is newest first')
})

t.test('bodies that are not JSON, empty or malformed are MVC problems', async (t) => {
  const text = await patch('/v2/rezept/statusuuid', '{"rezeptUuids":["x"]}', { ...JSON_AUTH, 'content-type': 'text/plain' })
  t.equal(text.status, 415)
  t.match(text.body, /^\{"type":"https:\/\/tools.ietf.org\/html\/rfc9110#section-15.5.16","title":"Unsupported Media Type","status":415,"traceId":"00-/)
  const empty = await patch('/v2/rezept/statusuuid', '')
  t.equal(empty.status, 400)
  t.match(empty.body, /"errors":\{"":\["A non-empty request body is required."\]\}/)
  const broken = await patch('/v2/rezept/statusuuid', '{"rezeptUuids":[')
  t.equal(broken.status, 400)
  t.match(broken.body, /"errors":\{"\$":\[.*\],"request":\["The request field is required."\]\}/)
  // The real legacy's text for this body (recordings): System.Text.Json's reader message with its position.
  const notJson = await patch('/v2/rezept/statusuuid', 'not json')
  t.equal(notJson.status, 400)
  t.same(JSON.parse(notJson.body).errors, {
    $: ["'not json' is an invalid JSON literal. Expected the literal 'null'. Path: $ | LineNumber: 0 | BytePositionInLine: 1."],
    request: ['The request field is required.'],
  })
  const notAValue = JSON.parse((await patch('/v2/rezept/statusuuid', 'x')).body).errors.$
  t.same(notAValue, ["'x' is an invalid start of a value. Path: $ | LineNumber: 0 | BytePositionInLine: 0."], 'a character that starts no value')
  const wrongType = await patch('/v2/rezept/statusuuid', '{"rezeptUuids":"m-1"}')
  t.equal(wrongType.status, 400)
  t.match(wrongType.body, /"\$.rezeptUuids":\["The JSON value could not be converted to/)
  t.equal((await patch('/v2/rezept/statusuuid', '[1]')).status, 400, 'an array instead of an object')
  t.equal((await patch('/v2/rezept/statusuuid', 'null')).status, 400, 'a JSON null body')
  t.equal((await patch('/v2/rezept/statusuuid', '{"rezeptUuids":["m-1"]}', { 'content-type': 'application/json' })).status, 401, 'authentication before the body')
})

async function statusOf(table: string, fk: string, id: number) {
  return (await f.apoti.query(`SELECT rezept_status, status_abfrage_datum::text AS datum, status_abfrage_zeit::text AS zeit FROM ${table} WHERE ${fk} = $1 ORDER BY 1`, [id])).rows
}

/** The simulator's "today": the date in its time zone (Europe/Berlin by default), not this process's. */
function today(): string {
  return serverToday(DEFAULT_TIME_ZONE)
}

t.test('PATCH status applies each update on its own and reports per-item errors with HTTP 200', async (t) => {
  const r = await patch('/v2/rezept/status', JSON.stringify({ updates: [
    { rezeptUuid: 'm-1', type: 'EMUSTER16', transferArz: null, status: 'ABRECHENBAR' },
    { rezeptUuid: 'm-2', type: 'eMuster16', transferArz: true, status: 'GELESEN' },
    { rezeptUuid: 'p-5', type: 'P-Rezept', transferArz: false, status: '' },
    { rezeptUuid: 'gone', type: 'E-Rezept', status: 'X' },
    { rezeptUuid: 'm-1', type: 'eRezept' },
  ] }))
  t.equal(r.status, 200)
  t.equal(r.body, '{"success":false,"processedCount":5,"successCount":3,"errorCount":2,"errors":["E-Rezept prescription not found: gone","Unknown prescription type: eRezept"],"responseTimestamp":"<now>"}')
  t.same(await statusOf('er_senderezepte_emuster16_status', 'id_senderezepte_emuster16', 1), [{ rezept_status: 'ABRECHENBAR', datum: today(), zeit: '09:00:00' }], 'status and today set, time left')
  t.same(await statusOf('er_senderezepte_emuster16_status', 'id_senderezepte_emuster16', 2), [{ rezept_status: 'GELESEN', datum: today(), zeit: null }], 'a missing status row is created')
  t.same((await f.apoti.query(`SELECT transfer_arz FROM er_senderezepte_emuster16_daten WHERE rezept_uuid = 'm-2'`)).rows, [{ transfer_arz: true }])
  t.same(await statusOf('er_senderezepte_prezept_status', 'id_senderezepte_prezept', 5), [{ rezept_status: 'HINWEIS', datum: null, zeit: null }], 'an empty status leaves the row alone')
  const ok = await patch('/v2/rezept/status', '{"updates":[{"rezeptUuid":"m-2","type":"emuster16","transferArz":false}]}')
  t.equal(ok.body, '{"success":true,"processedCount":1,"successCount":1,"errorCount":0,"errors":[],"responseTimestamp":"<now>"}')
})

t.test('PATCH status rolls every update back when the database fails, and says so', async (t) => {
  const r = await patch('/v2/rezept/status', JSON.stringify({ updates: [
    { rezeptUuid: 'e-7', type: 'e-rezept', transferArz: true, status: 'GELESEN' },
    { rezeptUuid: 'p-5', type: 'p-rezept', status: 'A_STATUS_LONGER_THAN_TWENTY_CHARACTERS' },
    { rezeptUuid: 'nope', type: 'p-rezept' },
  ] }))
  t.equal(r.status, 200)
  t.equal(r.body, '{"success":false,"processedCount":3,"successCount":2,"errorCount":3,"errors":["P-Rezept prescription not found: nope",' +
    '"Transaction failed: An error occurred while saving the entity changes. See the inner exception for details."],"responseTimestamp":"<now>"}')
  t.same((await f.apoti.query(`SELECT transfer_arz FROM er_senderezepte_erezept_daten WHERE rezept_uuid = 'e-7'`)).rows, [{ transfer_arz: false }], 'the first update was rolled back')
  t.same(await statusOf('er_senderezepte_erezept_status', 'id_senderezepte_erezept', 7), [], 'no status row was left behind')
})

t.test('PATCH status validates its body like MVC and limits it to 1000 updates', async (t) => {
  const missing = await patch('/v2/rezept/status', '{"updates":[{"type":"eMuster16"},{"rezeptUuid":"","type":null}]}')
  t.equal(missing.status, 400)
  t.equal(missing.body.replace(TRACE_ID, '"traceId":"<id>"'),
    '{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"One or more validation errors occurred.","status":400,' +
    '"errors":{"Updates[0].RezeptUuid":["The RezeptUuid field is required."],"Updates[1].RezeptUuid":["The RezeptUuid field is required."],"Updates[1].Type":["The Type field is required."]},"traceId":"<id>"}')
  t.equal((await patch('/v2/rezept/status', '{"updates":null}')).status, 400)
  t.equal((await patch('/v2/rezept/status', '{"updates":5}')).status, 400)
  t.equal((await patch('/v2/rezept/status', '{"updates":[5]}')).status, 400)
  t.equal((await patch('/v2/rezept/status', '{"updates":[{"rezeptUuid":1,"type":"x","transferArz":"yes","status":3}]}')).status, 400)
  t.equal((await patch('/v2/rezept/status', '"x"')).status, 400)
  const empty = await patch('/v2/rezept/status', '{"updates":[]}')
  t.equal(empty.status, 400)
  t.equal(empty.body, 'Updates list cannot be empty')
  t.equal((await patch('/v2/rezept/status', '{}')).body, 'Updates list cannot be empty')
  const many = await patch('/v2/rezept/status', JSON.stringify({ updates: Array.from({ length: 1001 }, () => ({ rezeptUuid: 'm-1', type: 'x' })) }))
  t.equal(many.body, 'Bulk operation limited to 1000 items')
  const asJson = await patch('/v2/rezept/status', '{"updates":[]}', { ...JSON_AUTH, accept: 'application/json' })
  t.equal(asJson.body, '"Updates list cannot be empty"', 'Accept: application/json quotes the text')
})

t.test('a tenant database that cannot be reached fails both bulk routes with their texts', async (t) => {
  const down = await createSimFixture('bulk_down')
  t.teardown(() => down.close())
  await down.arzsw.query(`UPDATE arzsw_datenbank SET datenbank_connection_string = 'Host=127.0.0.1;Port=1;Database=none;Username=nobody'`)
  const read = await call(down.sim.url, '/v2/rezept/statusuuid', { method: 'PATCH', headers: JSON_AUTH, body: '{"rezeptUuids":["a"]}' })
  t.equal(read.status, 500)
  t.equal(read.body, 'Internal server error occurred during bulk status retrieval')
  const write = await call(down.sim.url, '/v2/rezept/status', { method: 'PATCH', headers: JSON_AUTH, body: '{"updates":[{"rezeptUuid":"a","type":"x"}]}' })
  t.equal(write.status, 500)
  t.equal(write.body, 'Internal server error occurred during bulk status update')
})

t.test('a failing lookup is reported per update, aborts the transaction, and the pending save then fails', async (t) => {
  const g = await createSimFixture('bulk_lookup')
  t.teardown(() => g.close())
  await g.insert('emuster16', { id: 1, daten: [{ uuid: 'm-1', transfer: false }] })
  await g.insert('emuster16', { id: 2, daten: [{ uuid: 'm-2', transfer: false }] })
  await g.apoti.query('ALTER TABLE er_senderezepte_erezept_daten RENAME TO erezept_daten_away')
  const send = (body: unknown) => call(g.sim.url, '/v2/rezept/status', { method: 'PATCH', headers: JSON_AUTH, body: JSON.stringify(body) })
  const pending = await send({ updates: [
    { rezeptUuid: 'm-1', type: 'eMuster16', transferArz: true },
    { rezeptUuid: 'e-1', type: 'E-Rezept', status: 'GELESEN' },
    { rezeptUuid: 'm-2', type: 'eMuster16', transferArz: true },
  ] })
  t.equal(pending.body.replace(NOW, '"responseTimestamp":"<now>"'), '{"success":false,"processedCount":3,"successCount":1,"errorCount":3,"errors":[' +
    '"Error updating e-1: 42P01: relation \\"er_senderezepte_erezept_daten\\" does not exist",' +
    '"Error updating m-2: 25P02: current transaction is aborted, commands ignored until end of transaction block",' +
    '"Transaction failed: An error occurred while saving the entity changes. See the inner exception for details."],"responseTimestamp":"<now>"}')
  const nothingPending = await send({ updates: [{ rezeptUuid: 'e-1', type: 'e-rezept', transferArz: true }, { rezeptUuid: 'm-1', type: 'eMuster16' }] })
  t.equal(nothingPending.body.replace(NOW, '"responseTimestamp":"<now>"'), '{"success":false,"processedCount":2,"successCount":0,"errorCount":2,"errors":[' +
    '"Error updating e-1: 42P01: relation \\"er_senderezepte_erezept_daten\\" does not exist",' +
    '"Error updating m-1: 25P02: current transaction is aborted, commands ignored until end of transaction block"],"responseTimestamp":"<now>"}',
  'nothing to save: the COMMIT of the aborted transaction rolls back without an error')
  t.same((await g.apoti.query('SELECT transfer_arz FROM er_senderezepte_emuster16_daten ORDER BY 1')).rows, [{ transfer_arz: false }, { transfer_arz: false }], 'nothing was written')
})

t.test('a tenant connection string that does not parse fails inside the route, with its 500 text', async (t) => {
  const bad = await createSimFixture('bulk_badcs')
  t.teardown(() => bad.close())
  await bad.arzsw.query(`UPDATE arzsw_datenbank SET datenbank_connection_string = 'Host=127.0.0.1;Port=not-a-number'`)
  const list = await call(bad.sim.url, '/v2/rezept', { headers: JSON_AUTH })
  t.equal(list.status, 500)
  t.equal(list.body, 'Internal server error occurred while retrieving prescriptions')
  const write = await call(bad.sim.url, '/v2/rezept/status', { method: 'PATCH', headers: JSON_AUTH, body: '{"updates":[{"rezeptUuid":"a","type":"x"}]}' })
  t.equal(write.body, 'Internal server error occurred during bulk status update')
})
