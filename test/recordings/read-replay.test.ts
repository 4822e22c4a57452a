// Every read the real legacy answered (test/fixtures/legacy-recordings/gold-reads.jsonl.gz) is replayed
// on a world seeded as recorded: the simulator alone, then the proxy with every fast route on in front
// of it, must give the recorded answers byte for byte (volatile timestamps and trace ids blanked).
import t, { type Test } from 'tap'
import pg from 'pg'
import { loadConfig } from '../../config/load.ts'
import { startLegacySim, type LegacySimHandle } from '../../legacy-sim/server.ts'
import { startInstance } from '../../proxy/instance.ts'
import { ROUTE_IDS } from '../../routes/contract.ts'
import { matchRoute } from '../../routes/route-table.ts'
import { DEFAULT_KLEIN_ROWS, seed, SEED_USERS, type SeedReport } from '../../sql/seed/seed.ts'
import { databaseUrl, needsRedis, pgAdminUrl, redisTestPrefix, redisUrl } from '../../dev/services.ts'
import { describe, readRecording, replay, userOf, type RecordedExchange, type ReplayedAnswer } from './recorded-exchanges.ts'
import { isV1New, judge, RecordedV1Items, type Verdict } from './replay-verdict.ts'
import { legacyV1Page } from './v1-legacy-order.ts'

// The recorded world: `npm run seed -- --rows 3000 --prefix gold_ --seed 7` (klein at the CLI's default).
const PREFIX = 't_replay_'
const WORLD = { rows: 3000, kleinRows: DEFAULT_KLEIN_ROWS, seed: 7 }
// The recorded legacy's settings (recordings README).
const LEGACY_SETTINGS = { maxPageSize: 500, environment: 'Development' }
// Requests in flight at once: the answers are reads, their order does not matter.
const CONCURRENCY = 4

// Two replays of 393 reads, each verified with BCrypt by the simulator: more than tap's default file timeout on a busy machine.
t.setTimeout(600_000)

const reads = await readRecording('gold-reads.jsonl.gz')
const recordedItems = new RecordedV1Items(reads)
let report: SeedReport | undefined
let sim: LegacySimHandle

t.before(async () => {
  report = await seed({ adminUrl: pgAdminUrl(), prefix: PREFIX, ...WORLD })
  sim = await startLegacySim({ arzswUrl: databaseUrl(report.databases.arzsw), port: 0, ...LEGACY_SETTINGS })
})

t.teardown(async () => {
  await sim?.close()
  if (report === undefined) return
  const admin = new pg.Client({ connectionString: pgAdminUrl() })
  await admin.connect()
  for (const db of [report.databases.arzsw, ...Object.values(report.databases.tenants)]) await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`)
  await admin.end()
})

function tenantDatabaseOf(recorded: RecordedExchange): string {
  const user = SEED_USERS.find((u) => u.login === userOf(recorded.headers.Authorization))
  return databaseUrl(report!.databases.tenants[user!.tenant])
}

interface Outcome { recorded: RecordedExchange; answer: ReplayedAnswer; verdict: Verdict }

/** Sends every recorded read to `baseUrl` and judges each answer. */
async function replayAll(baseUrl: string): Promise<Outcome[]> {
  const outcomes: Outcome[] = new Array(reads.length)
  let next = 0
  const worker = async () => {
    while (next < reads.length) {
      const recorded = reads[next++]!
      const answer = await replay(baseUrl, recorded)
      // The legacy's v1 order is PostgreSQL's: read it right after the answer, on the same database.
      const order = isV1New(recorded) && recorded.status === 200 ? await legacyV1Page(tenantDatabaseOf(recorded), recorded.path) : null
      outcomes[recorded.index] = { recorded, answer, verdict: judge(recorded, answer, order, recordedItems) }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  return outcomes
}

/** Counts per verdict, and every difference named with its first differing bytes. */
function reportOutcomes(t: Test, against: string, outcomes: readonly Outcome[]): void {
  const count = (kind: Verdict['kind']) => outcomes.filter((o) => o.verdict.kind === kind).length
  t.comment(`${against}: ${outcomes.length} reads, ${count('equal')} equal, ${count('escaping')} differ only in string escaping, ${count('different')} differ otherwise`)
  for (const o of outcomes) {
    if (o.verdict.kind === 'equal') continue
    t.comment(`${o.verdict.kind === 'escaping' ? '[escaping] ' : ''}${describe(o.recorded)}\n    ${o.verdict.detail}`)
  }
}

t.test('every recorded read, sent to the simulator, gets the real legacy\'s answer', async (t) => {
  const outcomes = await replayAll(sim.url)
  reportOutcomes(t, 'simulator', outcomes)
  t.equal(outcomes.filter((o) => o.verdict.kind !== 'equal').length, 0, 'answers that differ from the recording')
})

t.test('every recorded read, sent through the proxy with every fast route on, gets the real legacy\'s answer', needsRedis(), async (t) => {
  const config = loadConfig({
    env: { FASTPATH_ENV: 'test' },
    overrides: {
      legacyUrl: sim.url, arzswUrl: databaseUrl(report!.databases.arzsw), redisUrl: redisUrl(),
      redisKeyPrefix: redisTestPrefix(t, 't_replay'), ...LEGACY_SETTINGS,
      flags: Object.fromEntries(ROUTE_IDS.map((id) => [id, 'on'])),
      // The simulator verifies BCrypt (arz-leer: cost 12) on every request, several at once here.
      'upstream.headersTimeoutMs': 60_000, 'upstream.bodyTimeoutMs': 60_000,
    },
  })
  const instance = await startInstance(config)
  t.teardown(instance.close)
  const proxy = instance.proxy
  const outcomes = await replayAll(proxy.url)
  reportOutcomes(t, 'proxy', outcomes)
  t.equal(outcomes.filter((o) => o.verdict.kind !== 'equal').length, 0, 'answers that differ from the recording')

  // The fast path must really have answered the list reads it can be sure of; every other one went to the legacy.
  const servedBy = (o: Outcome) => /^(\w+)/.exec(o.answer.headers.find(([n]) => n.toLowerCase() === 'server-timing')?.[1] ?? '')?.[1] ?? 'none'
  const listReads = outcomes.filter((o) => o.recorded.status === 200 && matchRoute(o.recorded.method, o.recorded.path) !== null)
  const deferred = listReads.filter((o) => servedBy(o) !== 'fast' && servedBy(o) !== 'cache').map((o) => describe(o.recorded))
  t.comment(`proxy: ${listReads.length} recorded fast-route 200s (v2 lists, v1 new), ${listReads.length - deferred.length} served fast or from the cache`)
  t.same(deferred, EXPECTED_DEFERRED.map((index) => describe(reads[index]!)), 'fast-route reads the fast path left to the legacy')
  // v1 GET new (issue 19): its recorded 200s are answered by the fast path, in the plan's order.
  const v1Reads = listReads.filter((o) => isV1New(o.recorded))
  t.ok(v1Reads.length > 0 && v1Reads.every((o) => servedBy(o) === 'fast'), `${v1Reads.length} recorded v1 new 200s, all served fast`)
})

// Recorded fast-route 200s the fast path leaves to the legacy, by index in gold-reads: query forms whose
// binding it does not re-implement (docs/legacy-contract.md §3), and a version header. Each user's block is 72 reads.
const EXPECTED_DEFERRED: readonly number[] = [
  ...[0, 72, 144].flatMap((block) => [
    48, 49, // pageSize=3&pageSize=9: a repeated parameter
    56, 57, // page%53ize=3: a %-encoded name
    58, 59, // pageSize=%2B5: a sign
    60, 61, // pageSize=05: a leading zero
  ].map((index) => index + block)),
  342, // X-API-Version: 2.0: the legacy's versioning decides
]
