// Prints EXPLAIN ANALYZE timings of the fast path's queries on one tenant database, for docs/fast-path.md:
// node bench/probes/explain-fast-path-queries.ts [postgres://.../bench_apoti_gross] [full]
// Without a URL: the benchmark's gross tenant (bench_apoti_gross) on the server of PG_ADMIN_URL.
import pg from 'pg'
import { databaseUrl } from '../../dev/services.ts'
import { newPrescriptionStatements } from '../../sql/queries/new-prescriptions.ts'
import { PRESCRIPTION_TYPES } from '../../sql/queries/prescription-types.ts'

const args = process.argv.slice(2)
const full = args.includes('full')
const url = args.find((arg) => arg !== 'full') ?? databaseUrl('bench_apoti_gross')
const client = new pg.Client({ connectionString: url })
await client.connect()
await client.query('SET jit = off') // as the fast path's pools do
if (process.env.RANDOM_PAGE_COST) await client.query(`SET random_page_cost = ${Number(process.env.RANDOM_PAGE_COST)}`)
for (const type of PRESCRIPTION_TYPES) {
  const s = newPrescriptionStatements(type)
  const runs: Array<[string, string, number[]]> = [
    ['page 1 x100', s.pageSql, [0, 100]], ['page 1 x1000', s.pageSql, [0, 1000]],
    ['offset 5000 x100', s.pageSql, [5000, 100]], ['count', s.countSql, []],
  ]
  for (const [label, sql, values] of runs) {
    await client.query(`EXPLAIN (ANALYZE) ${sql}`, values) // warm the cache: figures are for a warm server
    const times: number[] = []
    let plan: string[] = []
    for (let i = 0; i < 3; i++) {
      const result = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, values)
      plan = result.rows.map((r) => r['QUERY PLAN'])
      times.push(Number(/Execution Time: ([0-9.]+)/.exec(plan.find((l) => l.startsWith('Execution Time')) ?? '')?.[1]))
    }
    times.sort((a, b) => a - b)
    console.log(`| ${type.name} | ${label} | ${times[1]!.toFixed(1)} ms |`)
    if (full) console.log(plan.join('\n'))
  }
}
await client.end()
