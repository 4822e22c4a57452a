// `node bench/shadow.ts`: does shadow mode slow the client? One proxy (started as `npm start` starts it, proxy/instance.ts) in front
// of the legacy simulator (its own process, loopback), the same polling request sent one at a time,
// the route's flag alternating off / shadow in blocks A B A B …, each request sent once the last
// one's shadow work is done (polling clients are minutes apart); prints p50/p95 per mode and the p50
// ratio with the date and machine, for docs/shadow.md.
//   BENCH_SHADOW_PACE_MS between request starts (80), BENCH_SHADOW_BLOCKS (8), BENCH_SHADOW_REQUESTS per block (300), BENCH_SHADOW_TARGET (/v2/rezept?pageSize=100),
//   BENCH_SHADOW_CACHE off (default: every shadow run queries the database, the worst case) or ttl (the production default)
import { spawn } from 'node:child_process'
import { cpus, hostname } from 'node:os'
import { once } from 'node:events'
import { Agent, request } from 'undici'
import { loadConfig } from '../config/load.ts'
import { EventBus } from '../core/events.ts'
import { startInstance } from '../proxy/instance.ts'
import { seed } from '../sql/seed/seed.ts'
import { databaseUrl, pgAdminUrl } from '../dev/services.ts'

const BLOCKS = Number(process.env.BENCH_SHADOW_BLOCKS ?? 8)
const PER_BLOCK = Number(process.env.BENCH_SHADOW_REQUESTS ?? 300)
const TARGET = process.env.BENCH_SHADOW_TARGET ?? '/v2/rezept?pageSize=100'
const PACE_MS = Number(process.env.BENCH_SHADOW_PACE_MS ?? 80)
const KLEIN = `Basic ${Buffer.from('arz-klein:klein-Geheim2').toString('base64')}`
const ROUTE = 'v2.rezept.list'
const CACHE = process.env.BENCH_SHADOW_CACHE ?? 'off'
if (CACHE !== 'off' && CACHE !== 'ttl') throw new Error('BENCH_SHADOW_CACHE: off or ttl')

const report = await seed({ adminUrl: pgAdminUrl(), prefix: 'bench_shadow_', rows: 2000, kleinRows: 2000 })
const arzswUrl = databaseUrl(report.databases.arzsw)

// The legacy in a process of its own, as in production: its CPU is not the proxy's.
const sim = spawn(process.execPath, ['legacy-sim/main.ts', '--port', '0'], {
  env: { ...process.env, ARZSW_URL: arzswUrl, LEGACY_MAX_PAGE_SIZE: '500', LEGACY_ENVIRONMENT: 'Test' },
  stdio: ['ignore', 'pipe', 'inherit'],
})
const [line] = (await once(sim.stdout!, 'data')) as [Buffer]
const legacyUrl = /listening on (\S+)/.exec(line.toString())![1]!

const config = loadConfig({
  env: { FASTPATH_ENV: 'test' },
  overrides: {
    legacyUrl, arzswUrl, maxPageSize: 500, environment: 'Test', flags: `${ROUTE}=off`, serverTiming: false,
    fastPath: { cache: { routes: { 'v2.rezept.list': CACHE, 'v2.rezept.pharmacy': CACHE } } },
  },
})
const events = new EventBus()
const outcomes: Record<string, number> = {}
events.on((event) => {
  if (event.type === 'shadow.compared') {
    outcomes[event.outcome] = (outcomes[event.outcome] ?? 0) + 1
    comparedCount++
  }
})
const instance = await startInstance(config, { events })
const proxy = instance.proxy
const agent = new Agent({ connections: 1, pipelining: 1 })

let shadowed = 0
let comparedCount = 0
/** Until every shadowed request so far has its comparison (the run starts only after the answer). */
async function settledShadow(): Promise<void> {
  while (comparedCount < shadowed) await new Promise((resolve) => setTimeout(resolve, 1))
}

async function block(mode: 'off' | 'shadow', n: number): Promise<number[]> {
  proxy.flags.set(ROUTE, { mode }, 'bench', 'admin')
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const started = performance.now()
    const res = await request(proxy.url + TARGET, { headers: { authorization: KLEIN }, dispatcher: agent })
    if (mode === 'shadow') shadowed++
    await res.body.arrayBuffer()
    times.push(performance.now() - started)
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`)
    // The ARZ polls every few minutes: the next request does not arrive while this one's shadow
    // run is still at work. Waiting for it measures what shadow adds to the shadowed request itself.
    await settledShadow()
    // Both modes on the same schedule: a request sent right after the last one finds the processes
    // and PostgreSQL still awake, one sent after a pause does not; unequal gaps would bias the figures.
    const wait = started + PACE_MS - performance.now()
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
  }
  return times
}

await block('off', 100)
await block('shadow', 100)
const samples: Record<'off' | 'shadow', number[]> = { off: [], shadow: [] }
for (let b = 0; b < BLOCKS; b++) {
  const mode = b % 2 === 0 ? 'off' : 'shadow'
  samples[mode].push(...(await block(mode, PER_BLOCK)))
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.ceil(sorted.length * q) - 1)]!
}
const row = (mode: 'off' | 'shadow') => `| ${mode} | ${samples[mode].length} | ${quantile(samples[mode], 0.5).toFixed(2)} | ${quantile(samples[mode], 0.95).toFixed(2)} | ${quantile(samples[mode], 0.99).toFixed(2)} |`
const ratio = quantile(samples.shadow, 0.5) / quantile(samples.off, 0.5)
console.log(`${new Date().toISOString()} on ${hostname()} (${cpus().length} × ${cpus()[0]?.model.trim()}), Node ${process.version}`)
console.log(`GET ${TARGET} as arz-klein, fast path cache ${CACHE}, one at a time, one start every ${PACE_MS} ms at most (after the last one's shadow comparison), ${BLOCKS} blocks of ${PER_BLOCK} alternating off/shadow after a warm-up of 100 each`)
console.log('| mode | requests | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|---|')
console.log(row('off'))
console.log(row('shadow'))
console.log(`shadow p50 / off p50 = ${ratio.toFixed(3)} (${((ratio - 1) * 100).toFixed(1)} %); comparisons: ${JSON.stringify(outcomes)}; shadow runs: ${JSON.stringify(proxy.shadow.counts)}`)

await agent.close()
await instance.close()
sim.kill('SIGTERM')
