// Measures the simulator's latency on a seeded tenant (the "before" figure of every benchmark): p50/p90 of sequential runs.
// Usage: node legacy-sim/measure-latency.ts --user U --password P [--runs 7] [--path /v2/rezept?pageSize=1000] (env ARZSW_URL, LEGACY_MAX_PAGE_SIZE)
import { parseArgs } from 'node:util'
import { startLegacySim } from './server.ts'

const { values } = parseArgs({
  options: {
    user: { type: 'string' }, password: { type: 'string' }, runs: { type: 'string', default: '7' },
    path: { type: 'string', multiple: true }, warmup: { type: 'string', default: '1' },
  },
})
if (!values.user || values.password === undefined) {
  console.error('measure-latency: --user and --password are required')
  process.exit(2)
}
const runs = Number(values.runs)
const warmup = Number(values.warmup)
const paths = values.path ?? ['/v2/rezept?pageSize=1000', '/v2/rezept?pageSize=100']
const sim = await startLegacySim({
  arzswUrl: process.env.ARZSW_URL ?? 'postgres://postgres@127.0.0.1:5432/bench_arzsw',
  maxPageSize: Number(process.env.LEGACY_MAX_PAGE_SIZE ?? 1000),
})
const authorization = 'Basic ' + Buffer.from(`${values.user}:${values.password}`).toString('base64')

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

try {
  for (const path of paths) {
    const times: number[] = []
    let summary = ''
    for (let i = 0; i < warmup + runs; i++) {
      const start = performance.now()
      const response = await fetch(sim.url + path, { headers: { authorization } })
      const body = await response.text()
      const ms = performance.now() - start
      if (response.status !== 200) throw new Error(`${path}: HTTP ${response.status} ${body.slice(0, 200)}`)
      if (i >= warmup) times.push(ms)
      const parsed = JSON.parse(body) as { prescriptions: unknown[]; totalCount: number; pageSize: number }
      summary = `${parsed.prescriptions.length} items, totalCount ${parsed.totalCount}, pageSize ${parsed.pageSize}, ${(body.length / 1e6).toFixed(1)} MB`
    }
    times.sort((a, b) => a - b)
    console.log(`${path}: p50 ${percentile(times, 50).toFixed(0)} ms, p90 ${percentile(times, 90).toFixed(0)} ms, min ${times[0]!.toFixed(0)} ms over ${runs} runs (${summary})`)
  }
} finally {
  await sim.close()
}
