// `npm run bench:fast-path`: the legacy simulator against the fast path on the 1M-row bench_ tenant, same requests, same
// client; prints p50/p99 per scenario and concurrency and the ratio. Bounded: a fixed number of requests per turn.
import { spawn, type ChildProcess } from 'node:child_process'
import { Pool } from 'undici'
import { freePort } from '../proxy/listen.ts'

const ARZSW_URL = process.env.ARZSW_URL ?? 'postgres://postgres@127.0.0.1:5432/bench_arzsw'
const MAX_PAGE_SIZE = 1000
const AUTH = 'Basic ' + Buffer.from(process.env.BENCH_USER ?? 'arz-gross:gross-Geheim1').toString('base64')
// The simulator runs BCrypt and full scans per request: fewer requests keep its turns within a minute.
const SIM_REQUESTS = Number(process.env.BENCH_SIM_REQUESTS ?? 40)
const FAST_REQUESTS = Number(process.env.BENCH_FAST_REQUESTS ?? 400)
const ROOT = new URL('..', import.meta.url).pathname

const SCENARIOS: ReadonlyArray<[string, string]> = [
  ['pageSize=100, all types', '/v2/rezept?pageSize=100'],
  ['pageSize=1000, eMuster16', '/v2/rezept?type=eMuster16&pageSize=1000'],
  ['deep page (page=50, pageSize=100)', '/v2/rezept?page=50&pageSize=100'],
  ['/status, pageSize=100', '/v2/rezept/status?pharmacyId=1&pageSize=100'],
]


function start(script: string, port: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ARZSW_URL, PORT: String(port), LEGACY_MAX_PAGE_SIZE: String(MAX_PAGE_SIZE) },
    })
    let output = ''
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      if (/listening/.test(output)) resolve(child)
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}):\n${output}`)))
  })
}

async function turn(origin: string, path: string, requests: number, concurrency: number): Promise<{ latencies: number[]; bytes: number; failures: number }> {
  const pool = new Pool(origin, { connections: concurrency, pipelining: 1 })
  const latencies: number[] = []
  let next = 0
  let bytes = 0
  let failures = 0
  async function worker(): Promise<void> {
    while (next < requests) {
      next++
      const started = performance.now()
      const res = await pool.request({ path, method: 'GET', headers: { authorization: AUTH } })
      const body = Buffer.from(await res.body.arrayBuffer())
      latencies.push(performance.now() - started)
      if (res.statusCode !== 200) failures++
      bytes = body.length
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  await pool.close()
  latencies.sort((a, b) => a - b)
  return { latencies, bytes, failures }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!

const [simPort, fastPort] = [await freePort(), await freePort()]
const sim = await start('legacy-sim/main.ts', simPort)
const fast = await start('bench/fast-path-server.ts', fastPort)
try {
  console.log(`| scenario | clients | simulator p50 / p99 (ms) | fast path p50 / p99 (ms) | p50 ratio | body bytes |`)
  console.log(`|---|---|---|---|---|---|`)
  for (const [name, path] of SCENARIOS) {
    await turn(`http://127.0.0.1:${fastPort}`, path, 5, 1) // warm the pools, caches and statements
    await turn(`http://127.0.0.1:${simPort}`, path, 2, 1)
    for (const clients of [1, 16]) {
      const s = await turn(`http://127.0.0.1:${simPort}`, path, clients === 1 ? Math.ceil(SIM_REQUESTS / 2) : SIM_REQUESTS, clients)
      const f = await turn(`http://127.0.0.1:${fastPort}`, path, clients === 1 ? FAST_REQUESTS / 2 : FAST_REQUESTS, clients)
      const fmt = (l: number[]) => `${percentile(l, 50).toFixed(1)} / ${percentile(l, 99).toFixed(1)}`
      const failures = s.failures + f.failures ? ` (non-200: sim ${s.failures}, fast ${f.failures})` : ''
      console.log(`| ${name} | ${clients} | ${fmt(s.latencies)} | ${fmt(f.latencies)} | ${(percentile(s.latencies, 50) / percentile(f.latencies, 50)).toFixed(1)}× | ${f.bytes}${failures} |`)
    }
  }
} finally {
  sim.kill('SIGTERM')
  fast.kill('SIGTERM')
}
