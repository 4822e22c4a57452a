// `npm run bench:passthrough`: what the pass-through costs. The simulator's cheapest route
// (GET /api/Health/arzsw) is loaded directly, through the proxy and through nginx, in one run,
// alternating A B C A B C with a bounded time per turn; prints requests/s and latency percentiles.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { Pool } from 'undici'
import { freePort } from '../proxy/listen.ts'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4)
const TURN_MS = Number(process.env.BENCH_TURN_MS ?? 3000)
const WARMUP_MS = 1000
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32)
const PATH = '/api/Health/arzsw'
const ROOT = new URL('..', import.meta.url).pathname
const ARZSW_URL = process.env.ARZSW_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' // the health route never queries it

interface Turn {
  readonly target: string
  readonly requests: number
  readonly errors: number
  readonly seconds: number
  readonly latenciesMs: Float64Array
}


/** Starts a process; `ready` undefined: at once (readiness is then checked over HTTP). */
function startProcess(command: string, args: string[], env: NodeJS.ProcessEnv, ready?: RegExp): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    if (!ready) resolve(child)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      if (ready?.test(output)) resolve(child)
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`${command} exited (${code}) before it was ready:\n${output}`)))
  })
}

async function waitForHttp(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      const answer = await fetch(url)
      await answer.arrayBuffer()
      if (answer.ok) return
    } catch {}
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`${url} did not answer`)
}

async function load(pool: Pool, target: string, durationMs: number, record: boolean): Promise<Turn> {
  const latencies: number[] = []
  let requests = 0
  let errors = 0
  const started = performance.now()
  const deadline = started + durationMs
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now()
      try {
        const answer = await pool.request({ method: 'GET', path: PATH })
        await answer.body.dump()
        if (answer.statusCode !== 200) errors++
      } catch {
        errors++
      }
      requests++
      if (record) latencies.push(performance.now() - t0)
    }
  }
  await Promise.all(Array.from({ length: CONNECTIONS }, worker))
  return { target, requests, errors, seconds: (performance.now() - started) / 1000, latenciesMs: Float64Array.from(latencies).sort() }
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

async function main(): Promise<void> {
  const children: ChildProcess[] = []
  const nginxDir = await mkdtemp(join(tmpdir(), 'bench-nginx-'))
  try {
    const simPort = await freePort()
    const proxyPort = await freePort()
    const adminPort = await freePort()
    const nginxPort = await freePort()
    const node = process.execPath
    children.push(await startProcess(node, [join(ROOT, 'legacy-sim/main.ts'), '--port', String(simPort)], { ARZSW_URL }, /listening/))
    const simUrl = `http://127.0.0.1:${simPort}`
    children.push(
      await startProcess(node, [join(ROOT, 'proxy/main.ts')], {
        FASTPATH_ENV: 'production', HOST: '127.0.0.1', ADMIN_HOST: '127.0.0.1', PORT: String(proxyPort), ADMIN_PORT: String(adminPort),
        LEGACY_URL: simUrl, ARZSW_URL: '', REDIS_URL: '', FASTPATH_ADMIN_TOKEN: '', LOG_LEVEL: 'warn',
      }),
    )
    await writeFile(join(nginxDir, 'nginx.conf'), nginxConfig(nginxPort, simPort, nginxDir))
    children.push(await startProcess('nginx', ['-p', nginxDir, '-c', join(nginxDir, 'nginx.conf'), '-g', 'daemon off;'], {}))
    const targets: [string, string][] = [
      ['direct', simUrl],
      ['proxy', `http://127.0.0.1:${proxyPort}`],
      ['nginx', `http://127.0.0.1:${nginxPort}`],
    ]
    for (const [, url] of targets) await waitForHttp(url + PATH)

    const pools = new Map(targets.map(([name, url]) => [name, new Pool(url, { connections: CONNECTIONS, pipelining: 1 })]))
    for (const [name] of targets) await load(pools.get(name)!, name, WARMUP_MS, false)
    const turns: Turn[] = []
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name] of targets) {
        const turn = await load(pools.get(name)!, name, TURN_MS, true)
        turns.push(turn)
        console.error(`round ${round + 1} ${name.padEnd(6)} ${(turn.requests / turn.seconds).toFixed(0)} req/s, p50 ${percentile(turn.latenciesMs, 50).toFixed(2)} ms, errors ${turn.errors}`)
      }
    }
    for (const pool of pools.values()) await pool.close()
    report(turns)
  } finally {
    for (const child of children.reverse()) child.kill('SIGTERM')
    await new Promise((r) => setTimeout(r, 300))
    await rm(nginxDir, { recursive: true, force: true })
  }
}

function report(turns: Turn[]): void {
  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  console.log(`\n${new Date().toISOString()} — ${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`)
  console.log(`GET ${PATH}, ${CONNECTIONS} keep-alive connections, ${ROUNDS} rounds × ${TURN_MS / 1000} s per target, alternating\n`)
  console.log('| path | req/s (median of rounds) | p50 ms | p90 ms | p99 ms | errors |')
  console.log('|---|---:|---:|---:|---:|---:|')
  const direct = new Map<string, number>()
  for (const name of ['direct', 'proxy', 'nginx']) {
    const mine = turns.filter((t) => t.target === name)
    const rates = mine.map((t) => t.requests / t.seconds).sort((a, b) => a - b)
    const median = rates[Math.floor(rates.length / 2)]!
    const all = Float64Array.from(mine.flatMap((t) => [...t.latenciesMs])).sort()
    direct.set(name, percentile(all, 50))
    const errors = mine.reduce((sum, t) => sum + t.errors, 0)
    console.log(`| ${name} | ${median.toFixed(0)} | ${percentile(all, 50).toFixed(2)} | ${percentile(all, 90).toFixed(2)} | ${percentile(all, 99).toFixed(2)} | ${errors} |`)
  }
  const base = direct.get('direct')!
  console.log(`\nadded p50 latency: proxy +${(direct.get('proxy')! - base).toFixed(2)} ms, nginx +${(direct.get('nginx')! - base).toFixed(2)} ms`)
}

function nginxConfig(port: number, simPort: number, dir: string): string {
  // One worker: the proxy is one Node process, so both get one core's worth of event loop.
  return `worker_processes 1;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream legacy { server 127.0.0.1:${simPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://legacy;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`
}

await main()
