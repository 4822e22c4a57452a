// The legacy runs its page queries, then its counts (docs/legacy-contract.md §4): an answer's totalCount is never older
// than its items. A count reused under an unchanged snapshot must keep that order: here a commit lands
// while the page query waits, after the request began, and the count must see it as the items do.
import pg from 'pg'
import t from 'tap'
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../../proxy/demo/embedded-postgres.ts'
import { urlForDatabase } from '../../../sql/seed/database-setup.ts'
import { basicAuthorization } from './cases.ts'
import { startComparison, type ComparisonFixture } from './comparison-fixture.ts'

const KLEIN = { authorization: basicAuthorization('arz-klein', 'klein-Geheim2') }
const LIST = '/v2/rezept?type=eMuster16&pageSize=3'
const DATEN = 'er_senderezepte_emuster16_daten'
// One new eMuster16 prescription with a single daten row leaves the selection (docs/legacy-contract.md §4).
const COLLECT_ONE = `UPDATE ${DATEN} SET transfer_arz = true WHERE id_senderezepte_emuster16_daten =
  (SELECT min(id_senderezepte_emuster16_daten) FROM ${DATEN} d
    WHERE transfer_arz = false AND NOT EXISTS (SELECT 1 FROM ${DATEN} o
      WHERE o.id_senderezepte_emuster16 = d.id_senderezepte_emuster16 AND o.id_senderezepte_emuster16_daten <> d.id_senderezepte_emuster16_daten)
      AND NOT EXISTS (SELECT 1 FROM er_senderezepte_emuster16_status s WHERE s.id_senderezepte_emuster16 = d.id_senderezepte_emuster16 AND s.rezept_status = 'ABGERECHNET'))`

// A cluster of this test's own: the count cache is keyed by the cluster's snapshot, which a commit
// anywhere changes (other suites commit all the time). Without autovacuum only this test commits here.
// Started in t.before: a server that cannot start fails this file with the reason, not a crash.
let server: EmbeddedPostgresHandle | undefined
let tenant: ComparisonFixture
let tenantUrl: string
t.before(async () => {
  server = await startEmbeddedPostgres({ settings: { autovacuum: 'off' } })
  tenant = await startComparison({ prefix: 't_fast_cntord_', rows: 300, kleinRows: 300, maxPageSize: 500, environment: 'Development', adminUrl: server.adminUrl })
  tenantUrl = urlForDatabase(server.adminUrl, tenant.report.databases.tenants.klein)
})
t.teardown(async () => {
  await tenant?.close()
  await server?.stop()
})

async function fastTotal(): Promise<number> {
  const outcome = await tenant.toFast('v2.rezept.list', 'GET', LIST, KLEIN)
  if (outcome.kind !== 'answer') throw new Error(`deferred: ${outcome.reason}`)
  return totalCount(outcome.body)
}

function totalCount(body: Buffer): number {
  return Number(/"totalCount":(\d+)/.exec(body.toString('latin1'))![1])
}

const queries = (kind: string): number => tenant.events.filter((e) => e.type === 'db.query' && e.name.includes(kind)).length

async function until(what: string, done: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

t.test('a commit that lands while the page query waits is in the count as in the items', async (t) => {
  const before = await fastTotal()
  const counted = queries('_count_')
  t.equal(await fastTotal(), before)
  t.equal(queries('_count_'), counted, 'while nothing commits the count is reused (the case under test)')

  const locker = new pg.Client({ connectionString: tenantUrl })
  const watcher = new pg.Client({ connectionString: tenantUrl })
  await Promise.all([locker.connect(), watcher.connect()])
  t.teardown(() => Promise.all([locker.end(), watcher.end()]))
  // A lock takes no transaction id: the cluster's snapshot is unchanged until the UPDATE below.
  await locker.query('BEGIN')
  await locker.query(`LOCK TABLE ${DATEN} IN ACCESS EXCLUSIVE MODE`)
  const snapshots = queries('snapshot')
  const answer = tenant.toFast('v2.rezept.list', 'GET', LIST, KLEIN)
  await until('the page query to wait for the lock', async () =>
    (await watcher.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].n > 0)
  // Give a snapshot read beside the page query time to answer before the commit: that is the order
  // that once made the count older than the items. Read after the pages, it comes after the commit.
  await until('a snapshot read', () => queries('snapshot') > snapshots, 500).catch(() => {})
  await locker.query(COLLECT_ONE)
  await locker.query('COMMIT')

  const outcome = await answer
  if (outcome.kind !== 'answer') throw new Error(`deferred: ${outcome.reason}`)
  t.equal(totalCount(outcome.body), before - 1, 'the count sees the commit the items saw')
  const legacy = await tenant.toSim('GET', LIST, KLEIN)
  t.equal(totalCount(outcome.body), totalCount(legacy.body), 'as the legacy counts now')
})
