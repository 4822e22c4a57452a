// The fast path's queries with the fastpath_ indexes of an older commit against today's, alternated on one tenant (docs/BENCHMARKS.md):
// node bench/probes/index-shapes.ts postgres://.../big_apoti_gross <old-commit> [rounds] [repetitions]
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import pg from 'pg'
import { FAST_PATH_SESSION_OPTIONS } from '../../tenants/tenant-pools.ts'
import { FAST_PATH_INDEXES, type FastPathIndex } from '../../sql/indexes/fastpath-indexes.ts'
import { newPrescriptionStatements, type NewPrescriptionStatements } from '../../sql/queries/new-prescriptions.ts'
import { PRESCRIPTION_TYPES, type PrescriptionType } from '../../sql/queries/prescription-types.ts'
import { RAW_TEXT } from '../../tenants/raw-text-types.ts'

const [url, oldCommit, roundsArg, repetitionsArg] = process.argv.slice(2)
if (!url || !oldCommit) throw new Error('usage: node bench/probes/index-shapes.ts <tenant-url> <old-commit> [rounds] [repetitions]')
const rounds = Number(roundsArg ?? 8)
const repetitions = Number(repetitionsArg ?? 15)

// The old commit's index list and queries, as files of their own (they import each other relatively).
const oldDir = mkdtempSync(join(tmpdir(), 'index-shapes-'))
writeFileSync(join(oldDir, 'package.json'), '{"type":"module"}')
for (const file of ['sql/indexes/fastpath-indexes.ts', 'sql/queries/new-prescriptions.ts', 'sql/queries/prescription-types.ts']) {
  mkdirSync(dirname(join(oldDir, file)), { recursive: true })
  writeFileSync(join(oldDir, file), execFileSync('git', ['show', `${oldCommit}:${file}`]))
}
const oldIndexes = (await import(pathToFileURL(join(oldDir, 'sql/indexes/fastpath-indexes.ts')).href)).FAST_PATH_INDEXES as FastPathIndex[]
const oldQueries = (await import(pathToFileURL(join(oldDir, 'sql/queries/new-prescriptions.ts')).href)).newPrescriptionStatements as typeof newPrescriptionStatements
rmSync(oldDir, { recursive: true })

interface Variant { label: string; indexes: readonly FastPathIndex[]; statements(t: PrescriptionType): NewPrescriptionStatements }
const variants: Variant[] = [
  { label: `old (${oldCommit})`, indexes: oldIndexes, statements: oldQueries },
  { label: 'new', indexes: FAST_PATH_INDEXES, statements: newPrescriptionStatements },
]

const admin = new pg.Client({ connectionString: url })
await admin.connect()
for (const index of [...oldIndexes, ...FAST_PATH_INDEXES]) await admin.query(index.createSql)
await admin.end()

const client = new pg.Client({ connectionString: url, options: FAST_PATH_SESSION_OPTIONS, types: RAW_TEXT })
await client.connect()

const queries = PRESCRIPTION_TYPES.flatMap((t) => [
  { label: `${t.name} page 1 ×1000`, run: (v: Variant) => ({ name: `${v.statements(t).pageName}_${variants.indexOf(v)}`, text: v.statements(t).pageSql, values: [0, 1000] }) },
  { label: `${t.name} count`, run: (v: Variant) => ({ name: `${v.statements(t).countName}_${variants.indexOf(v)}`, text: v.statements(t).countSql, values: [] }) },
])
const times = new Map<string, number[]>()
const plans = new Map<string, string>()
const loadStart = loadavg()
const started = new Date()

for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? variants : [...variants].reverse()
  for (const variant of order) {
    // The other shape's indexes disappear for this transaction only, so each variant plans with its own.
    await client.query('BEGIN')
    for (const other of variants) if (other !== variant) for (const index of other.indexes) await client.query(`DROP INDEX ${index.name}`)
    for (const q of queries) {
      const config = q.run(variant)
      const key = `${variant.label}\t${q.label}`
      if (!plans.has(key)) {
        const plan = (await client.query({ text: `EXPLAIN (COSTS OFF) ${config.text}`, values: config.values })).rows.map((r) => r['QUERY PLAN'] as string)
        plans.set(key, [...new Set(plan.join('\n').match(/using [a-z0-9_]+/g) ?? [])].join(', '))
      }
      for (let i = 0; i < 2; i++) await client.query(config) // warm-up, unrecorded
      for (let i = 0; i < repetitions; i++) {
        const start = process.hrtime.bigint()
        await client.query(config)
        const list = times.get(key) ?? []
        list.push(Number(process.hrtime.bigint() - start) / 1e6)
        times.set(key, list)
      }
    }
    await client.query('ROLLBACK')
  }
}
await client.end()

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}
console.log(`# ${started.toISOString()} – ${new Date().toISOString()}, ${rounds} rounds × ${repetitions}, load average ${loadStart.map((l) => l.toFixed(2)).join(' ')} → ${loadavg().map((l) => l.toFixed(2)).join(' ')}`)
console.log(`| query | ${variants.map((v) => `${v.label} p50 ms (n)`).join(' | ')} | new / old |`)
console.log(`|---|${variants.map(() => '---:|').join('')}---:|`)
for (const q of queries) {
  const medians = variants.map((v) => median(times.get(`${v.label}\t${q.label}`)!))
  console.log(`| ${q.label} | ${variants.map((v, i) => `${medians[i]!.toFixed(1)} (${times.get(`${v.label}\t${q.label}`)!.length})`).join(' | ')} | ${(medians[1]! / medians[0]!).toFixed(2)} |`)
}
for (const [key, used] of plans) console.log(`# ${key.replace('\t', ': ')}: ${used}`)
