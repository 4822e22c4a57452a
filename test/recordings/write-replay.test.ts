// The real legacy's recorded write sequence replayed on a freshly seeded gold world: every answer, every read after a write, and the final tables equal the recording.
import t, { type Test } from 'tap'
import pg from 'pg'
import { startLegacySim } from '../../legacy-sim/server.ts'
import { serverToday } from '../../legacy-sim/server-date.ts'
import { INDEX_PREFIX } from '../../sql/indexes/fastpath-indexes.ts'
import { seed, seedDatabaseNames } from '../../sql/seed/seed.ts'
import { dropSeeded } from '../seed/seeded-databases.ts'
import { databaseUrl, pgAdminUrl } from '../../dev/services.ts'
import {
  blankVolatile, currentTables, firstDifference, recordedTablesAfterWrites, recordedWrites, sendRecorded, tableDifferences,
} from './write-replay-support.ts'

// recordings/README.md: recorded on 2026-12-03 by a legacy running with TZ=Europe/Berlin.
const RECORDED_TODAY = '2026-12-03'
const RECORDED_TIME_ZONE = 'Europe/Berlin'

const PREFIX = 't_wreplay_'
const names = seedDatabaseNames(PREFIX)

/** What answers the recorded requests: the simulator today; the proxy with fast write routes (issue 20) plugs in beside it. */
interface Upstream {
  readonly url: string
  /** The time zone whose date the writes store as "today". */
  readonly timeZone: string
  close(): Promise<void>
}

interface UpstreamKind {
  readonly name: string
  start(world: { arzswUrl: string }): Promise<Upstream>
}

const UPSTREAMS: readonly UpstreamKind[] = [
  {
    name: 'the legacy simulator',
    async start({ arzswUrl }) {
      const sim = await startLegacySim({ arzswUrl, port: 0, maxPageSize: 500, environment: 'Development', timeZone: RECORDED_TIME_ZONE })
      return { url: sim.url, timeZone: RECORDED_TIME_ZONE, close: () => sim.close() }
    },
  },
]

t.teardown(() => dropSeeded(PREFIX))

/** The gold world as `npm run seed -- --rows 3000 --prefix gold_ --seed 7` makes it (klein at its default), without the proxy's indexes. */
async function freshGoldWorld(t: Test): Promise<void> {
  await seed({ adminUrl: pgAdminUrl(), prefix: PREFIX, rows: 3000, seed: 7 })
  // The recording was made on the legacy's own schema: the proxy's indexes change which status row
  // the legacy's `LIMIT 1` picks (issue 26 point 7), so a world carrying them would prove nothing.
  const client = new pg.Client({ connectionString: databaseUrl(names.tenants.gross) })
  await client.connect()
  try {
    const found = await client.query<{ name: string }>(`SELECT indexname AS name FROM pg_indexes WHERE indexname LIKE $1`, [`${INDEX_PREFIX}%`])
    t.same(found.rows.map((r) => r.name), [], 'the world has none of the proxy\'s indexes')
    // Nor settings attached to its database: the legacy's connections plan with the server's defaults.
    const attached = await client.query<{ settings: string[] }>(
      `SELECT s.setconfig AS settings FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = current_database()`)
    t.same(attached.rows, [], 'no planner settings attached to the world\'s database')
  } finally {
    await client.end()
  }
}

/** `body` with the run's "today" in the status date fields written as the recording's day. */
function asRecordedDay(body: string, runToday: string): string {
  if (runToday === RECORDED_TODAY) return body
  return body.replace(new RegExp(`"(statusAbfrageDatum|statusAbfrageZeit)":"${runToday}T`, 'g'), `"$1":"${RECORDED_TODAY}T`)
}

for (const kind of UPSTREAMS) {
  t.test(`the recorded write sequence through ${kind.name}: answers, reads after each write and the final tables equal the legacy's`, async (t) => {
    const [writes, tablesAfter] = await Promise.all([recordedWrites(), recordedTablesAfterWrites()])
    t.equal(writes.length, 40, 'the recording holds 20 writes, each followed by a read')
    await freshGoldWorld(t)
    const upstream = await kind.start({ arzswUrl: databaseUrl(names.arzsw) })
    t.teardown(() => upstream.close())

    let equalAnswers = 0
    for (const [i, exchange] of writes.entries()) {
      const label = `#${i + 1} ${exchange.method} ${exchange.path.length > 60 ? exchange.path.slice(0, 60) + '…' : exchange.path}`
      const answer = await sendRecorded(upstream.url, exchange)
      const problems: string[] = []
      if (answer.status !== exchange.status) problems.push(`status ${answer.status}, recorded ${exchange.status}`)
      if (answer.contentType !== exchange.content_type) problems.push(`content type ${JSON.stringify(answer.contentType)}, recorded ${JSON.stringify(exchange.content_type)}`)
      // The writes store the legacy's "today" (its time zone's date), and the reads after them show it in
      // statusAbfrageDatum and statusAbfrageZeit (date + the row's time): on another day than the
      // recording's, those dates stand for the recorded one, as in the tables below.
      const difference = firstDifference(blankVolatile(exchange.body), blankVolatile(asRecordedDay(answer.body, serverToday(upstream.timeZone))))
      if (difference !== null) problems.push(`body: ${difference}`)
      if (problems.length === 0) equalAnswers++
      else t.fail(`${label}: ${problems.join('; ')}`)
    }
    t.equal(equalAnswers, writes.length, `${equalAnswers} of ${writes.length} answers equal the recording`)

    const tables = [...new Set(tablesAfter.map((r) => r.table))]
    const runToday = serverToday(upstream.timeZone)
    const differences = tableDifferences(tablesAfter, await currentTables(databaseUrl(names.tenants.gross), tables), RECORDED_TODAY, runToday)
    for (const difference of differences.slice(0, 20)) t.fail(difference)
    t.equal(differences.length, 0, `the ${tablesAfter.length} recorded rows of ${tables.length} tables equal the tables after the writes (recorded ${RECORDED_TODAY} read as ${runToday})`)
  })
}
