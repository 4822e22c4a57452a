// Micro-benchmark of JsonBytes.string and of the escaped-XML memo: PG_ADMIN_URL=… node bench/probes/json-escape-micro.ts
// The XMLs are the seeder's own (sql/seed/xml-documents.ts, seed 7), evaluated by PostgreSQL without a
// table, so the figures need no bench database and are the same on every machine's data.
// Times are CPU time of this process (process.cpuUsage): on a shared machine wall time also counts the
// other processes' turns. Min is the least disturbed round, median the typical one.
import pg from 'pg'
import { EscapedTextMemo } from '../../json/escaped-text-memo.ts'
import { JsonBytes } from '../../json/json-bytes.ts'
import { prescriptionXml } from '../../sql/seed/xml-documents.ts'

const expression = prescriptionXml('eMuster16', 1, `(g * 7)::text`, `'30' || (1000000 + g)::text`).replaceAll('@seed', '7')
// Not through dev/services.ts: it loads ioredis, and the first figures are for a process without it.
const c = new pg.Client({ connectionString: process.env.PG_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres' })
await c.connect()
const xml = (await c.query(`SELECT ${expression} AS xml FROM generate_series(1, 1000) AS g`)).rows.map((r) => r.xml as string)
await c.end()

function cpuMs(run: () => void): number {
  const start = process.cpuUsage()
  run()
  const used = process.cpuUsage(start)
  return (used.user + used.system) / 1000
}

function summary(times: number[]): string {
  times.sort((a, b) => a - b)
  return `min ${times[0]!.toFixed(2)} ms, median ${times[times.length >> 1]!.toFixed(2)} ms`
}

const out = new JsonBytes()
const chars = xml.reduce((sum, x) => sum + x.length, 0)
function escapeAll(label: string): void {
  const times: number[] = []
  for (let round = 0; round < 60; round++) {
    const ms = cpuMs(() => {
      out.reset()
      for (const x of xml) out.string(x)
    })
    if (round >= 10) times.push(ms)
  }
  console.log(`escape 1000 xml (${chars} UTF-16 units → ${out.length} bytes), ${label}: ${summary(times)} (50 rounds)`)
}
escapeAll('plain process')
// The proxy's process has ioredis loaded, whose `class VerbatimString extends String` makes V8 slow
// down charCodeAt loops for good (json-bytes.ts): measured again as the proxy runs.
await import('ioredis')
escapeAll('ioredis loaded')

// Where the memo starts to pay: 20 000 texts of one length cut from the XMLs, escaped each time
// against taken from a memo that holds them all (every lookup a hit). The texts are fresh copies,
// as pg hands over new strings on every read, so the memo compares them in full.
for (const length of [64, 128, 256, 512, 2048]) {
  const count = 20_000
  const kept: string[] = []
  for (let i = 0; kept.length < count; i++) {
    const x = xml[i % xml.length]!
    kept.push(x.slice((i * 37) % (x.length - length), (i * 37) % (x.length - length) + length))
  }
  const fresh = kept.map((s) => Buffer.from(s, 'utf8').toString('utf8'))
  const memo = new EscapedTextMemo(1 << 30, 0)
  for (const [i, s] of kept.entries()) memo.write(out, `k${i}`, s)
  const escape: number[] = []
  const reuse: number[] = []
  for (let round = 0; round < 30; round++) {
    const e = cpuMs(() => {
      out.reset()
      for (const s of fresh) out.string(s)
    })
    const r = cpuMs(() => {
      out.reset()
      for (let i = 0; i < count; i++) memo.write(out, `k${i}`, fresh[i]!)
    })
    if (round >= 5) {
      escape.push(e)
      reuse.push(r)
    }
  }
  console.log(`${count} texts of ${length} units: escaped ${summary(escape)}; from the memo ${summary(reuse)}`)
}
