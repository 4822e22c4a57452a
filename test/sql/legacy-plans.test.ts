// The fastpath_ indexes leave every plan of the legacy's own statements as it was (docs/legacy-contract.md §11), and the fast path's queries use them.
import pg from 'pg'
import t from 'tap'
import { FAST_PATH_INDEXES } from '../../sql/indexes/fastpath-indexes.ts'
import { runOnTenant } from '../../sql/indexes/index-cli.ts'
import { newPrescriptionStatements } from '../../sql/queries/new-prescriptions.ts'
import { PRESCRIPTION_TYPES, type PrescriptionType } from '../../sql/queries/prescription-types.ts'
import { urlForDatabase } from '../../sql/seed/database-setup.ts'
import { seed } from '../../sql/seed/seed.ts'
import { FAST_PATH_SESSION_OPTIONS } from '../../tenants/tenant-pools.ts'
import { parseTenantDatabase } from '../../tenants/npgsql-connection-string.ts'
import { observedStatements, statementFor } from '../support/observed-legacy-sql.ts'
import { npgsqlConnectionString, pgAdminUrl } from '../../dev/services.ts'

// FASTPATH_TEST_PLAN_WORLD=big_ runs against an existing seeded world (`npm run seed -- --prefix big_ ...`,
// its gross tenant) instead of seeding a small one: plans on 1M rows are not those on a few thousand.
// Its fastpath_ indexes are dropped for the "before" plans and applied again afterwards.
/** One prescription's ids: the values the legacy binds when it reads or writes that prescription. */
interface LegacySample { readonly mainId: number; readonly datenId: number; readonly statusId: number; readonly rezeptUuid: string }

/**
 * A prescription the legacy would write to: new (a daten row still to collect), with the most status
 * rows the world has (two or more is where the status lookup's plan decides which row is written).
 */
function sampleSql(t: PrescriptionType): string {
  return `SELECT d.${t.mainId} AS main_id, d.${t.datenId} AS daten_id, d.rezept_uuid,
       (SELECT min(s.${t.statusId}) FROM ${t.status} s WHERE s.${t.mainId} = d.${t.mainId}) AS status_id
  FROM ${t.daten} d
 WHERE d.transfer_arz = false AND d.${t.mainId} IS NOT NULL
 ORDER BY (SELECT count(*) FROM ${t.status} s WHERE s.${t.mainId} = d.${t.mainId}) DESC, d.${t.datenId}
 LIMIT 1`
}

/** Pages the v2 list is asked for: the recorded one, the statusuuid window and a deep page. */
const PAGES: ReadonlyArray<readonly [number, number]> = [[2, 0], [1000, 0], [100, 4900]]

/**
 * The observed statements for one type with this world's values: each parameter bound as its column
 * asks (the sampled prescription's ids and uuid), the others as the legacy bound them.
 */
function legacyStatements(t: PrescriptionType, sample: LegacySample): Array<{ name: string; sql: string; values: unknown[] }> {
  const out: Array<{ name: string; sql: string; values: unknown[] }> = []
  observedStatements().forEach((observed, index) => {
    const sql = statementFor(observed.sql, t)
    const name = `${t.name} ${observed.request} #${index + 1}`
    if (/LIMIT \$1 OFFSET \$2/.test(sql)) {
      for (const [limit, offset] of PAGES) out.push({ name: `${name} LIMIT ${limit} OFFSET ${offset}`, sql, values: [limit, offset] })
      return
    }
    const values = observed.bound.map((value, i) => {
      const n = i + 1
      if (new RegExp(`= ANY \\(\\$${n}\\)`).test(sql)) return [sample.rezeptUuid]
      const column = new RegExp(`(\\w+) = \\$${n}\\b`).exec(sql)?.[1]
      if (column === 'rezept_uuid') return sample.rezeptUuid
      if (column === t.mainId) return sample.mainId
      if (column === t.datenId) return sample.datenId
      if (column === t.statusId) return sample.statusId
      return value
    })
    out.push({ name, sql, values })
  })
  return out
}


const existingWorld = process.env.FASTPATH_TEST_PLAN_WORLD
const prefix = existingWorld || 't_legacy_plans_'

let tenantDatabase: string
t.before(async () => {
  if (!existingWorld) await seed({ adminUrl: pgAdminUrl(), prefix, rows: 4000, kleinRows: 300 })
  tenantDatabase = `${prefix}apoti_gross`
})

/** EXPLAIN (COSTS OFF) of every statement on a fresh connection: PostgreSQL's defaults, no session options. */
async function plansOf(statements: Array<{ name: string; sql: string; values: unknown[] }>, options?: string): Promise<Map<string, string>> {
  const client = new pg.Client({ connectionString: urlForDatabase(pgAdminUrl(), tenantDatabase), ...(options === undefined ? {} : { options }) })
  await client.connect()
  try {
    const plans = new Map<string, string>()
    for (const s of statements) {
      const rows = (await client.query<{ 'QUERY PLAN': string }>({ text: `EXPLAIN (COSTS OFF) ${s.sql}`, values: s.values })).rows
      plans.set(s.name, rows.map((r) => r['QUERY PLAN'].trim().replace(/\s+/g, ' ')).join('\n'))
    }
    return plans
  } finally {
    await client.end()
  }
}

async function samples(): Promise<Map<string, LegacySample>> {
  const client = new pg.Client({ connectionString: urlForDatabase(pgAdminUrl(), tenantDatabase) })
  await client.connect()
  try {
    const found = new Map<string, LegacySample>()
    for (const type of PRESCRIPTION_TYPES) {
      const row = (await client.query<{ main_id: number; daten_id: number; rezept_uuid: string; status_id: number | null }>(sampleSql(type))).rows[0]
      if (!row) throw new Error(`${tenantDatabase} has no new ${type.name} to sample`)
      found.set(type.key, { mainId: row.main_id, datenId: row.daten_id, rezeptUuid: row.rezept_uuid, statusId: row.status_id ?? 0 })
    }
    return found
  } finally {
    await client.end()
  }
}

t.test('the legacy\'s statements keep their plans when the fastpath_ indexes are applied; the fast path\'s queries use them', async (t) => {
  const database = parseTenantDatabase(npgsqlConnectionString(tenantDatabase))
  const dropped = await runOnTenant('drop', database)
  t.equal(dropped.error, undefined, 'no fastpath_ index before')
  const sampled = await samples()
  const statements = PRESCRIPTION_TYPES.flatMap((type) => legacyStatements(type, sampled.get(type.key)!))
  const before = await plansOf(statements)

  const applied = await runOnTenant('apply', database)
  t.same(applied.indexes.map((i) => i.state), FAST_PATH_INDEXES.map(() => 'valid'), 'applied')
  const after = await plansOf(statements)
  for (const s of statements) t.equal(after.get(s.name), before.get(s.name), s.name)

  // With the pools' own settings; a lost index would keep the answers and silently cost the speed.
  const fastQueries = PRESCRIPTION_TYPES.flatMap((type) => {
    const q = newPrescriptionStatements(type)
    return [
      { name: `${type.name} fast page ×1000`, sql: q.pageSql, values: [0, 1000] },
      { name: `${type.name} statusuuid window ×1000`, sql: q.windowSql, values: [0, 1000] },
      { name: `${type.name} fast count`, sql: q.countSql, values: [] },
    ]
  })
  const fastPlans = await plansOf(fastQueries, FAST_PATH_SESSION_OPTIONS)
  for (const q of fastQueries) t.match(fastPlans.get(q.name), /using fastpath_/, `${q.name} reads a fastpath_ index`)
})

// Guards the comparison itself: were EXPLAIN blind to indexes, every plan would compare equal.
t.test('the comparison sees an index the legacy can use: the first shape of status_first moves its status lookup', async (t) => {
  const type = PRESCRIPTION_TYPES[0]!
  // The status lookup of PATCH /v2/rezept/status: `… WHERE <main id> = $1 LIMIT 1`, no ORDER BY.
  const lookup = legacyStatements(type, (await samples()).get(type.key)!).find((s) => s.name.includes('PATCH /v2/rezept/status') && new RegExp(`WHERE e\\.${type.mainId} = \\$1\\s+LIMIT 1`).test(s.sql))!
  const values = lookup.values
  const client = new pg.Client({ connectionString: urlForDatabase(pgAdminUrl(), tenantDatabase) })
  await client.connect()
  try {
    const plan = async () => (await client.query({ text: `EXPLAIN (COSTS OFF) ${lookup.sql}`, values })).rows.map((r) => r['QUERY PLAN']).join('\n')
    const before = await plan()
    await client.query('BEGIN')
    // The definition `apply` created until 2026-12-03, only inside this transaction.
    await client.query(`CREATE INDEX fastpath_legacy_plans_probe ON ${type.status} (${type.mainId}, ${type.statusId}) ` +
      'INCLUDE (rezept_status, abrechen_status, status_abfrage_datum, status_abfrage_zeit)')
    const withOldShape = await plan()
    await client.query('ROLLBACK')
    t.not(withOldShape, before)
    t.match(withOldShape, /using fastpath_legacy_plans_probe/)
  } finally {
    await client.end()
  }
})
