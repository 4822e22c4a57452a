// Which rows the simulator's writes touch and how (docs/legacy-contract.md §7, §8; observed-sql.md): the plan's first status row, changed columns only, the legacy's "today".
import t from 'tap'
import { DEFAULT_TIME_ZONE, serverTimeOfDay, serverToday } from '../../legacy-sim/server-date.ts'
import { basic, call, createSimFixture, PLAIN_USER } from './sim-fixture.ts'

const JSON_AUTH = { authorization: basic(PLAIN_USER.login, PLAIN_USER.password), 'content-type': 'application/json' }
const TODAY = serverToday(DEFAULT_TIME_ZONE)

const f = await createSimFixture('rowchoice')
t.teardown(() => f.close())

/** A prescription with two status rows, the higher id written first, so it comes first in heap order AND in the legacy's index (ABRECHENBAR < STORNIERT). */
async function twoStatusRows(main: number, uuid: string): Promise<void> {
  await f.insert('emuster16', { id: main, number: '100', daten: [{ uuid, transfer: false }] })
  for (const [id, status] of [[main * 10 + 2, 'ABRECHENBAR'], [main * 10 + 1, 'STORNIERT']] as const) {
    await f.apoti.query(`INSERT INTO er_senderezepte_emuster16_status (id_senderezepte_emuster16_status, id_senderezepte_emuster16, muster16_id, rezept_status, status_abfrage_datum)
                         VALUES ($1, $2, 100, $3, '2025-01-01')`, [id, main, status])
  }
}

async function statusRows(main: number) {
  return (await f.apoti.query(`SELECT id_senderezepte_emuster16_status AS id, rezept_status, status_abfrage_datum::text AS datum
                               FROM er_senderezepte_emuster16_status WHERE id_senderezepte_emuster16 = $1 ORDER BY 1`, [main])).rows
}

/** The row the legacy's own status lookup returns (observed-sql.md), on the same database. */
async function legacyFirstStatusId(main: number): Promise<number> {
  return (await f.apoti.query(`SELECT e.id_senderezepte_emuster16_status AS id FROM er_senderezepte_emuster16_status AS e
                               WHERE e.id_senderezepte_emuster16 = $1 LIMIT 1`, [main])).rows[0].id
}

t.test('PATCH status writes the first status row PostgreSQL returns for the legacy\'s LIMIT 1, not the lowest id', async (t) => {
  await twoStatusRows(31, 'two-31')
  t.equal(await legacyFirstStatusId(31), 312, 'the legacy\'s statement yields the higher id here')
  const r = await call(f.sim.url, '/v2/rezept/status', { method: 'PATCH', headers: JSON_AUTH,
    body: JSON.stringify({ updates: [{ rezeptUuid: 'two-31', type: 'eMuster16', transferArz: true, status: 'GELESEN' }] }) })
  t.equal(r.status, 200)
  t.match(r.body, /^\{"success":true,"processedCount":1,"successCount":1,"errorCount":0,"errors":\[\]/)
  t.same(await statusRows(31), [{ id: 311, rezept_status: 'STORNIERT', datum: '2025-01-01' }, { id: 312, rezept_status: 'GELESEN', datum: TODAY }])
})

t.test('mark-as-read and set-abgerechnet pick the status row the same way', async (t) => {
  await twoStatusRows(41, 'two-41')
  await twoStatusRows(51, 'two-51')
  const read = await call(f.sim.url, '/api/v1/Prescriptions/mark-as-read', { method: 'POST', headers: JSON_AUTH, body: '{"prescriptions":[{"type":"eMuster16","rezeptUuid":"two-41"}]}' })
  t.equal(read.body, '{"success":true,"processedCount":1,"errors":[]}')
  t.same(await statusRows(41), [{ id: 411, rezept_status: 'STORNIERT', datum: '2025-01-01' }, { id: 412, rezept_status: 'GELESEN', datum: TODAY }])
  const billed = await call(f.sim.url, '/api/v1/Prescriptions/set-abgerechnet', { method: 'POST', headers: JSON_AUTH, body: '{"prescriptions":[{"type":"eMuster16","rezeptUuid":"two-51"}]}' })
  t.equal(billed.body, '{"success":true,"processedCount":1,"errors":[]}')
  t.same(await statusRows(51), [{ id: 511, rezept_status: 'STORNIERT', datum: '2025-01-01' }, { id: 512, rezept_status: 'ABGERECHNET', datum: TODAY }])
})

t.test('only changed values are written, as EF does: an unchanged row keeps its row version', async (t) => {
  await f.insert('emuster16', { id: 61, daten: [{ uuid: 'same-61', transfer: true }], status: [{ rezept: 'GELESEN', datum: TODAY }] })
  const versions = async () => (await f.apoti.query(`SELECT (SELECT xmin::text FROM er_senderezepte_emuster16_daten WHERE rezept_uuid = 'same-61') AS daten,
    (SELECT xmin::text FROM er_senderezepte_emuster16_status WHERE id_senderezepte_emuster16 = 61) AS status`)).rows[0]
  const before = await versions()
  const same = await call(f.sim.url, '/v2/rezept/status', { method: 'PATCH', headers: JSON_AUTH,
    body: JSON.stringify({ updates: [{ rezeptUuid: 'same-61', type: 'eMuster16', transferArz: true, status: 'GELESEN' }] }) })
  t.match(same.body, /"success":true/)
  t.same(await versions(), before, 'transfer_arz already true, status already GELESEN today: no UPDATE ran')
  await call(f.sim.url, '/v2/rezept/status', { method: 'PATCH', headers: JSON_AUTH,
    body: JSON.stringify({ updates: [{ rezeptUuid: 'same-61', type: 'eMuster16', transferArz: null, status: 'HINWEIS' }] }) })
  const after = await versions()
  t.equal(after.daten, before.daten, 'the daten row was not touched')
  t.not(after.status, before.status, 'the status row was written')
  t.same(await statusRows(61), [{ id: (await statusRows(61))[0].id, rezept_status: 'HINWEIS', datum: TODAY }])
})

t.test('"today" is the date in the legacy\'s time zone, not the process\'s', async (t) => {
  const lateEvening = new Date('2026-12-03T23:30:00Z')
  t.equal(serverToday('Europe/Berlin', lateEvening), '2026-12-04', 'already the next day in Berlin')
  t.equal(serverToday('UTC', lateEvening), '2026-12-03')
  t.equal(serverToday('Europe/Berlin', new Date('2026-07-01T21:59:59Z')), '2026-07-01', 'summer time: UTC+2')
  t.equal(serverTimeOfDay('Europe/Berlin', new Date('2026-12-03T23:30:05.042Z')), '00:30:05.042')
})
