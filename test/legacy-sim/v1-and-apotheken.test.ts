// docs/legacy-contract.md §8 (deprecated v1 routes: in-memory paging, mark-as-read, set-abgerechnet) and §9 (Apotheken CRUD) over HTTP.
import t from 'tap'
import { DEFAULT_TIME_ZONE, serverToday } from '../../legacy-sim/server-date.ts'
import { basic, call, createSimFixture, PLAIN_USER } from './sim-fixture.ts'

const AUTH = { authorization: basic(PLAIN_USER.login, PLAIN_USER.password) }
const JSON_AUTH = { ...AUTH, 'content-type': 'application/json' }

const f = await createSimFixture('v1')
t.teardown(() => f.close())
await f.insert('emuster16', { id: 1, number: '9007199254740993', rzLieferId: 'RZ-1', daten: [{ uuid: 'm-1', transfer: false, xml: '<a&b/>' }] })
await f.insert('emuster16', { id: 2, number: null, rzLieferId: 'RZ-2', daten: [{ uuid: 'm-2', transfer: false, xml: '<m2/>' }], status: [{ rezept: 'FEHLER' }] })
await f.insert('prezept', { id: 3, number: '123', rzLieferId: 'RZ-3', daten: [{ uuid: 'p-3', transfer: false, xml: '<p/>' }] })
await f.insert('erezept', { id: 4, number: '160.000.100.000.001.07', rzLieferId: 'RZ-4', daten: [{ uuid: 'e-4', transfer: false, xml: '<e/>' }] })

const V1 = {
  m1: '{"type":"eMuster16","id":1,"rezeptUuid":"m-1","xmlRequest":"<a&b/>","transferArz":false,"rzLieferId":"RZ-1","muster16Id":9007199254740993,"transaktionsNummer":null,"erezeptId":null,"datenId":1}',
  m2: '{"type":"eMuster16","id":2,"rezeptUuid":"m-2","xmlRequest":"<m2/>","transferArz":false,"rzLieferId":"RZ-2","muster16Id":null,"transaktionsNummer":null,"erezeptId":null,"datenId":2}',
  p3: '{"type":"P-Rezept","id":3,"rezeptUuid":"p-3","xmlRequest":"<p/>","transferArz":false,"rzLieferId":"RZ-3","muster16Id":null,"transaktionsNummer":123,"erezeptId":null,"datenId":1}',
  e4: '{"type":"E-Rezept","id":4,"rezeptUuid":"e-4","xmlRequest":"<e/>","transferArz":false,"rzLieferId":"RZ-4","muster16Id":null,"transaktionsNummer":null,"erezeptId":"160.000.100.000.001.07","datenId":1}',
}
const page = (items: string[], total: number, p: number, size: number, next: boolean) =>
  `{"prescriptions":[${items.join(',')}],"totalCount":${total},"page":${p},"pageSize":${size},"hasNextPage":${next}}`

t.test('v1 GET new pages the concatenated list of every type in memory, rzLieferId for all types', async (t) => {
  const all = await call(f.sim.url, '/api/v1/Prescriptions/new', { headers: AUTH })
  t.equal(all.status, 200)
  t.equal(all.body, page([V1.m1, V1.m2, V1.p3, V1.e4], 4, 1, 100, false))
  t.equal((await call(f.sim.url, '/api/v1/Prescriptions/new?page=2&pageSize=2', { headers: AUTH })).body, page([V1.p3, V1.e4], 4, 2, 2, false), 'a page spans types')
  t.equal((await call(f.sim.url, '/api/v1/Prescriptions/new?page=2&pageSize=1', { headers: AUTH })).body, page([V1.m2], 4, 2, 1, true))
  t.equal((await call(f.sim.url, '/api/v1/Prescriptions/new?rezeptType=PREZEPT', { headers: AUTH })).body, page([V1.p3], 1, 1, 100, false), 'v1 spelling, any case')
  t.equal((await call(f.sim.url, '/api/v1/Prescriptions/new?rezeptType=P-Rezept', { headers: AUTH })).body, page([], 0, 1, 100, false), 'the v2 spelling is unknown in v1')
  t.equal((await call(f.sim.url, '/api/v1/Prescriptions/new?page=0&pageSize=2', { headers: AUTH })).body, page([V1.m1, V1.m2], 4, 0, 2, true), 'in memory a negative skip is no skip')
  t.equal((await call(f.sim.url, '/api/v1/Prescriptions/new?pageSize=-1', { headers: AUTH })).body, page([], 4, 1, -1, true), 'a negative take is nothing; hasNextPage -1 < 4')
  t.equal((await call(f.sim.url, '/api/v1/Prescriptions/new?pageSize=100000', { headers: AUTH })).body, page([V1.m1, V1.m2, V1.p3, V1.e4], 4, 1, 100000, false), 'no clamp in v1')
  t.equal((await call(f.sim.url, '/api/v1/Prescriptions/new?page=x', { headers: AUTH })).status, 400)
})

t.test('mark-as-read sets transfer_arz and GELESEN + today; set-abgerechnet sets ABGERECHNET; both always 200', async (t) => {
  const read = await call(f.sim.url, '/api/v1/Prescriptions/mark-as-read', { method: 'POST', headers: JSON_AUTH,
    body: '{"prescriptions":[{"type":"eMuster16","rezeptUuid":"m-1"},{"type":"emuster16","rezeptUuid":"m-2"},{"type":"E-Rezept","rezeptUuid":"nope"},{"type":"Other","rezeptUuid":"p-3"}]}' })
  t.equal(read.status, 200)
  t.equal(read.body, '{"success":true,"processedCount":4,"errors":[]}', 'unknown uuids and other types are counted and ignored')
  const m1 = await f.apoti.query(`SELECT d.transfer_arz, s.rezept_status, s.status_abfrage_datum = $1::date AS today
    FROM er_senderezepte_emuster16_daten d LEFT JOIN er_senderezepte_emuster16_status s USING (id_senderezepte_emuster16) WHERE d.rezept_uuid = 'm-1'`,
  [serverToday(DEFAULT_TIME_ZONE)])
  t.same(m1.rows, [{ transfer_arz: true, rezept_status: 'GELESEN', today: true }], 'marked, status row created')
  const m2 = await f.apoti.query(`SELECT transfer_arz FROM er_senderezepte_emuster16_daten WHERE rezept_uuid = 'm-2'`)
  t.same(m2.rows, [{ transfer_arz: false }], 'the type is case-sensitive in v1: emuster16 is ignored')
  const billed = await call(f.sim.url, '/api/Prescriptions/set-abgerechnet', { method: 'POST', headers: { ...JSON_AUTH, 'x-api-version': '1.0' },
    body: '{"prescriptions":[{"type":"eMuster16","rezeptUuid":"m-2"},{"type":"P-Rezept","rezeptUuid":"p-3"}]}' })
  t.equal(billed.body, '{"success":true,"processedCount":2,"errors":[]}')
  const statuses = await f.apoti.query(`SELECT rezept_status FROM er_senderezepte_emuster16_status WHERE id_senderezepte_emuster16 = 2
    UNION ALL SELECT rezept_status FROM er_senderezepte_prezept_status WHERE id_senderezepte_prezept = 3`)
  t.same(statuses.rows, [{ rezept_status: 'ABGERECHNET' }, { rezept_status: 'ABGERECHNET' }], 'existing row updated, missing row created')
  t.equal((await call(f.sim.url, '/api/v1/Prescriptions/new', { headers: AUTH })).body, page([V1.e4], 1, 1, 100, false), 'only the untouched one is still new')
})

t.test('v1 writes validate the body and answer 500 with the JSON failure on a database error', async (t) => {
  t.equal((await call(f.sim.url, '/api/v1/Prescriptions/mark-as-read', { method: 'POST', headers: JSON_AUTH, body: '{}' })).status, 400)
  t.equal((await call(f.sim.url, '/api/v1/Prescriptions/mark-as-read', { method: 'POST', headers: JSON_AUTH, body: '{"prescriptions":3}' })).status, 400)
  t.equal((await call(f.sim.url, '/api/v1/Prescriptions/mark-as-read', { method: 'POST', headers: JSON_AUTH, body: '{"prescriptions":[1]}' })).status, 400)
  t.equal((await call(f.sim.url, '/api/v1/Prescriptions/mark-as-read', { method: 'POST', headers: JSON_AUTH, body: '{"prescriptions":[{"type":1}]}' })).status, 400)
  const required = await call(f.sim.url, '/api/v1/Prescriptions/mark-as-read', { method: 'POST', headers: JSON_AUTH, body: '{"prescriptions":[{"type":"P-Rezept","rezeptUuid":null},{"rezeptUuid":"x"}]}' })
  t.equal(required.status, 400)
  t.match(required.body, /"errors":\{"Prescriptions\[0\].RezeptUuid":\["The RezeptUuid field is required."\],"Prescriptions\[1\].Type":\["The Type field is required."\]\}/)
  t.equal((await call(f.sim.url, '/api/v1/Prescriptions/mark-as-read', { method: 'POST', headers: JSON_AUTH, body: '[]' })).status, 400)
  await f.apoti.query('ALTER TABLE er_senderezepte_erezept_status RENAME TO erezept_status_away')
  t.teardown(() => f.apoti.query('ALTER TABLE erezept_status_away RENAME TO er_senderezepte_erezept_status'))
  const failed = await call(f.sim.url, '/api/v1/Prescriptions/set-abgerechnet', { method: 'POST', headers: JSON_AUTH, body: '{"prescriptions":[{"type":"E-Rezept","rezeptUuid":"e-4"}]}' })
  t.equal(failed.status, 500)
  t.equal(failed.headers.get('content-type'), 'application/json; charset=utf-8')
  t.equal(failed.body, '{"success":false,"processedCount":0,"errors":["Internal server error"]}')
  const list = await call(f.sim.url, '/api/v1/Prescriptions/new', { headers: AUTH })
  t.equal(list.status, 500)
  t.equal(list.body, 'Internal server error')
})

t.test('a failing write inside v1 SaveChanges rolls back and answers the JSON failure', async (t) => {
  await f.apoti.query(`ALTER TABLE er_senderezepte_prezept_status ADD CONSTRAINT t_sim_no_gelesen CHECK (rezept_status <> 'GELESEN')`)
  t.teardown(() => f.apoti.query('ALTER TABLE er_senderezepte_prezept_status DROP CONSTRAINT t_sim_no_gelesen'))
  await f.apoti.query(`UPDATE er_senderezepte_prezept_daten SET transfer_arz = false; DELETE FROM er_senderezepte_prezept_status`)
  const r = await call(f.sim.url, '/api/v1/Prescriptions/mark-as-read', { method: 'POST', headers: JSON_AUTH, body: '{"prescriptions":[{"type":"P-Rezept","rezeptUuid":"p-3"}]}' })
  t.equal(r.status, 500)
  t.same((await f.apoti.query(`SELECT transfer_arz FROM er_senderezepte_prezept_daten WHERE rezept_uuid = 'p-3'`)).rows, [{ transfer_arz: false }], 'rolled back')
})

t.test('Apotheken: create, get by id and IK, search, update, delete, with the legacy texts', async (t) => {
  const created = await call(f.sim.url, '/api/Apotheken', { method: 'POST', headers: JSON_AUTH,
    body: '{"apothekeName":"Löwen-Apotheke","apoIkNr":301234567,"ort":"Köln","plz":50667,"gesperrt":false,"idHauptapotheke":12}' })
  t.equal(created.status, 201)
  const id = (JSON.parse(created.body) as { idApotheke: number }).idApotheke
  t.match(created.headers.get('location'), new RegExp(`/api/Apotheken/${id}$`))
  t.match(created.body, /^\{"idApotheke":\d+,"apothekeName":"Löwen-Apotheke","apothekeNameZusatz":null,"apoIkNr":301234567,"inhaberVorname":null,"inhaberNachname":null,"apoIntNr":null,"plz":50667,"ort":"Köln",.*"idHauptapotheke":12,.*"gesperrt":false,.*"aenDatum":"\d{4}-\d\d-\d\d","aenZeit":"\d\d:\d\d:\d\d(\.\d+)?"\}$/)
  t.equal((await call(f.sim.url, '/api/Apotheken', { method: 'POST', headers: JSON_AUTH, body: '{"apothekeName":"Dup","apoIkNr":301234567}' })).body, 'Apotheke with IK-Nr 301234567 already exists')
  t.equal((await call(f.sim.url, '/api/Apotheken', { method: 'POST', headers: JSON_AUTH, body: '{"apoIkNr":1}' })).status, 400, 'the name is required')
  t.equal((await call(f.sim.url, '/api/Apotheken', { method: 'POST', headers: JSON_AUTH, body: '{"apothekeName":"X","plz":"abc"}' })).status, 400, 'a wrongly typed field')
  const second = await call(f.sim.url, '/api/Apotheken', { method: 'POST', headers: JSON_AUTH, body: '{"apothekeName":"Adler","apoIkNr":309999999}' })
  const secondId = (JSON.parse(second.body) as { idApotheke: number }).idApotheke

  t.equal((await call(f.sim.url, `/api/Apotheken/${id}`, { headers: AUTH })).body, created.body, 'get by id')
  t.equal((await call(f.sim.url, '/api/apotheken/by-ik/301234567', { headers: AUTH })).body, created.body, 'get by IK')
  const missing = await call(f.sim.url, '/api/Apotheken/by-ik/1', { headers: AUTH })
  t.equal(missing.status, 404)
  t.equal(missing.body, 'Apotheke with IK-Nr 1 not found')
  t.equal((await call(f.sim.url, '/api/Apotheken/999', { headers: AUTH })).body, 'Apotheke with ID 999 not found')

  const list = JSON.parse((await call(f.sim.url, '/api/Apotheken?pageSize=1', { headers: AUTH })).body) as { apotheken: Array<{ apothekeName: string }>; totalCount: number; hasNextPage: boolean }
  t.same([list.apotheken.map((a) => a.apothekeName), list.totalCount, list.hasNextPage], [['Adler'], 2, true], 'ordered by name')
  const search = JSON.parse((await call(f.sim.url, '/api/Apotheken?search=K%C3%96LN', { headers: AUTH })).body) as { apotheken: Array<{ idApotheke: number }>; totalCount: number }
  t.same([search.apotheken.map((a) => a.idApotheke), search.totalCount], [[id], 1], 'search is case-insensitive over the town')
  const byIk = JSON.parse((await call(f.sim.url, '/api/Apotheken?search=99999', { headers: AUTH })).body) as { totalCount: number }
  t.equal(byIk.totalCount, 1, 'search matches the IK number as text')
  t.equal((await call(f.sim.url, '/api/Apotheken?page=0', { headers: AUTH })).body, 'Internal server error', 'a negative offset fails')
  t.equal((await call(f.sim.url, '/api/Apotheken?page=z', { headers: AUTH })).status, 400)

  const conflict = await call(f.sim.url, `/api/Apotheken/${secondId}`, { method: 'PUT', headers: JSON_AUTH, body: '{"apothekeName":"Adler","apoIkNr":301234567}' })
  t.equal(conflict.status, 409)
  t.equal(conflict.body, 'Another apotheke with IK-Nr 301234567 already exists')
  const updated = await call(f.sim.url, `/api/Apotheken/${secondId}`, { method: 'PUT', headers: JSON_AUTH, body: '{"apothekeName":"Adler <Neu>","apoIkNr":309999999,"bemerkung":"x"}' })
  t.equal(updated.status, 200)
  t.match(updated.body, /"apothekeName":"Adler <Neu>".*"bemerkung":"x"/)
  t.equal((await call(f.sim.url, '/api/Apotheken/999', { method: 'PUT', headers: JSON_AUTH, body: '{"apothekeName":"A"}' })).status, 404)
  t.equal((await call(f.sim.url, '/api/Apotheken/999', { method: 'PUT', headers: JSON_AUTH, body: '{}' })).status, 400)

  const deleted = await call(f.sim.url, `/api/Apotheken/${secondId}`, { method: 'DELETE', headers: AUTH })
  t.equal(deleted.status, 204)
  t.equal(deleted.body, '')
  t.equal((await call(f.sim.url, `/api/Apotheken/${secondId}`, { method: 'DELETE', headers: AUTH })).status, 404)
  t.equal((await call(f.sim.url, '/api/Apotheken', { headers: { ...AUTH, 'x-api-version': '1.0' } })).status, 400, 'Apotheken carries only the default version')
})

t.test('Apotheken answers the 500 text when its table is gone', async (t) => {
  await f.apoti.query('ALTER TABLE er_apotheke RENAME TO apotheke_away')
  t.teardown(() => f.apoti.query('ALTER TABLE apotheke_away RENAME TO er_apotheke'))
  for (const [method, path, body] of [['GET', '/api/Apotheken/1'], ['GET', '/api/Apotheken/by-ik/1'], ['POST', '/api/Apotheken', '{"apothekeName":"A"}'],
    ['PUT', '/api/Apotheken/1', '{"apothekeName":"A"}'], ['DELETE', '/api/Apotheken/1'], ['GET', '/api/Apotheken?search=a']] as const) {
    const r = await call(f.sim.url, path, { method, headers: JSON_AUTH, body })
    t.equal(r.status, 500, `${method} ${path}`)
    t.equal(r.body, 'Internal server error')
  }
})
