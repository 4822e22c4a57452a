// Micro-benchmark of JsonBytes.string on 1000 prescription XMLs: PG_ADMIN_URL=… node bench/json-escape-micro.ts
// The XMLs are the seeder's own (sql/seed/xml-documents.ts, seed 7), evaluated by PostgreSQL without a
// table, so the figures need no bench database and are the same on every machine's data.
import pg from 'pg'
import { JsonBytes } from '../routes/fast-path/json-bytes.ts'
import { prescriptionXml } from '../sql/seed/xml-documents.ts'
import { pgAdminUrl } from '../test/support/services.ts'

const expression = prescriptionXml('eMuster16', 1, `(g * 7)::text`, `'30' || (1000000 + g)::text`).replaceAll('@seed', '7')
const c = new pg.Client({ connectionString: pgAdminUrl() })
await c.connect()
const xml = (await c.query(`SELECT ${expression} AS xml FROM generate_series(1, 1000) AS g`)).rows.map((r) => r.xml as string)
await c.end()
const chars = xml.reduce((sum, x) => sum + x.length, 0)
console.log(`${xml.length} xml, ${chars} UTF-16 units`)
const out = new JsonBytes()
const times: number[] = []
let bytes = 0
for (let round = 0; round < 40; round++) {
  const t0 = performance.now()
  out.reset()
  for (const x of xml) out.string(x)
  bytes = out.toBuffer().length
  if (round >= 10) times.push(performance.now() - t0)
}
times.sort((a, b) => a - b)
// The machine is shared: the minimum is the least disturbed figure, the median the typical one.
console.log(`escape 1000 xml → ${bytes} bytes: min ${times[0]!.toFixed(2)} ms, median ${times[times.length >> 1]!.toFixed(2)} ms (30 rounds)`)
