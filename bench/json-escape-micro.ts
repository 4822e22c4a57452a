// Micro-benchmark of JsonBytes.string on 1000 real XML payloads of bench_apoti_gross: node bench/json-escape-micro.ts
import pg from 'pg'
import { JsonBytes } from '../routes/fast-path/json-bytes.ts'
const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/bench_apoti_gross' })
await c.connect()
const xml = (await c.query('SELECT xml_request FROM er_senderezepte_emuster16_daten ORDER BY id_senderezepte_emuster16_daten DESC LIMIT 1000')).rows.map((r) => r.xml_request as string)
await c.end()
const out = new JsonBytes()
for (let round = 0; round < 8; round++) {
  const t0 = performance.now()
  out.reset()
  for (const x of xml) out.string(x)
  const b = out.toBuffer()
  if (round >= 5) console.log('escape 1000 xml', (performance.now() - t0).toFixed(2), 'ms', b.length)
}
