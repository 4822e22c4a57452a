// `npm run soak [-- --minutes N]`: the production mix of bench/scenarios.json (scenario `mix`: 50 paced
// clients, mostly polls, some writes and pass-through) for N minutes (default 10) through one proxy wired
// as `npm start` (cache on, limits off, as the benchmark's proxy-cached) in front of the legacy simulator,
// on a modest seeded installation (soak_*, 20k prescriptions, made where missing). Every few seconds it
// samples the proxy's RSS and open file descriptors (/proc) and its heap (its own
// /v2/performance/metrics). At the end it prints and writes docs/soak/<date>.{md,json}: requests, errors
// by kind, RSS/FDs/heap at start (after the warm-up), end and max, growth per minute over the second
// half, and the verdict. Exits 1 on any error or growth over a threshold, 2 on bad arguments.
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { DEFAULT_PG_ADMIN_URL, DEFAULT_REDIS_URL, redisReachable } from '../dev/services.ts'
import { startContenders } from './contenders.ts'
import { HttpConnections, percentile, runTurn, type Send } from './load.ts'
import { prepareData } from './prepare-data.ts'
import { openFileDescriptors, rssMb } from './process-sampler.ts'
import type { ScenarioFile } from './scenario-model.ts'
import { requestKind, requestPicker, scenarioSend } from './scenario-requests.ts'
import { judgeSoak, type SeriesFigures, type SoakSample, type SoakThresholds } from './soak-analysis.ts'

const ROOT = new URL('..', import.meta.url).pathname
const PG_ADMIN_URL = process.env.PG_ADMIN_URL ?? DEFAULT_PG_ADMIN_URL
const REDIS_URL = process.env.BENCH_REDIS_URL ?? DEFAULT_REDIS_URL
const log = (line: string) => console.error(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}`)

const OPTIONS = {
  minutes: { type: 'string', default: '10' },
  'warmup-seconds': { type: 'string' },
  'sample-seconds': { type: 'string', default: '5' },
  rows: { type: 'string', default: '20000' },
  'klein-rows': { type: 'string', default: '2000' },
  prefix: { type: 'string', default: 'soak_' },
  out: { type: 'string', default: join(ROOT, 'docs/soak') },
  'max-rss-growth': { type: 'string', default: '2' },
  'max-fd-growth': { type: 'string', default: '1' },
} as const

interface Cli {
  readonly minutes: number
  readonly warmupSeconds: number
  readonly sampleSeconds: number
  readonly rows: number
  readonly kleinRows: number
  readonly prefix: string
  readonly out: string
  readonly thresholds: SoakThresholds
}

function parseCli(argv: string[]): Cli {
  const { values } = parseArgs({ args: argv, options: OPTIONS, strict: true })
  const number = (name: keyof typeof OPTIONS, min: number): number => {
    const value = Number(values[name])
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number >= ${min} (got ${values[name]})`)
    return value
  }
  const minutes = number('minutes', 0.05)
  if (!/^[a-z][a-z0-9_]*$/.test(values.prefix)) throw new Error('--prefix: lower-case letters, digits and underscores')
  return {
    minutes,
    // A tenth of the run, at least 2 s and at most a minute: pools, credentials and the cache fill up there.
    warmupSeconds: values['warmup-seconds'] === undefined ? Math.min(60, Math.max(2, minutes * 6)) : number('warmup-seconds', 0),
    sampleSeconds: number('sample-seconds', 0.2),
    rows: number('rows', 300),
    kleinRows: number('klein-rows', 300),
    prefix: values.prefix,
    out: values.out,
    thresholds: { rssMbPerMinute: number('max-rss-growth', -Infinity), fdsPerMinute: number('max-fd-growth', -Infinity) },
  }
}

/** Errors counted by kind: `HTTP 500 for GET /v2/rezept`, a connection error's code, `timeout`. */
function errorKind(error: Error): string {
  const code = (error as { code?: string }).code
  if (code !== undefined) return code
  return error.message.replace(/\?.*$/, '').replace(/after \d+ ms/, '').trim()
}

async function heapUsedMb(url: string, authorization: string): Promise<number | undefined> {
  const answer = await fetch(`${url}/v2/performance/metrics`, { headers: { authorization }, signal: AbortSignal.timeout(10_000) })
  const body = await answer.text()
  if (answer.status !== 200) throw new Error(`HTTP ${answer.status} for /v2/performance/metrics`)
  const bytes = (JSON.parse(body) as { memory?: { heapUsedBytes?: number } }).memory?.heapUsedBytes
  return bytes === undefined ? undefined : bytes / 2 ** 20
}

const round1 = (n: number) => Math.round(n * 10) / 10
const round2 = (n: number) => Math.round(n * 100) / 100

function row(name: string, unit: string, s: SeriesFigures | undefined): string {
  if (s === undefined) return `| ${name} | – | – | – | – |`
  return `| ${name} (${unit}) | ${round1(s.start)} | ${round1(s.end)} | ${round1(s.max)} | ${s.growthPerMinute >= 0 ? '+' : ''}${round2(s.growthPerMinute)} |`
}

async function main(): Promise<number> {
  let cli: Cli
  try {
    cli = parseCli(process.argv.slice(2))
  } catch (error) {
    console.error(`${(error as Error).message}\nusage: npm run soak -- [--minutes N] [--warmup-seconds S] [--sample-seconds S] [--rows N] [--prefix soak_] [--out DIR] [--max-rss-growth MB/min] [--max-fd-growth n/min]`)
    return 2
  }
  const file = JSON.parse(await readFile(join(ROOT, 'bench/scenarios.json'), 'utf8')) as ScenarioFile
  const spec = file.scenarios.find((s) => s.id === 'mix')
  if (spec === undefined) throw new Error('bench/scenarios.json has no scenario "mix"')
  const data = await prepareData(file, { pgAdminUrl: PG_ADMIN_URL, prefix: cli.prefix, rows: cli.rows, kleinRows: cli.kleinRows, benchUsers: 0, log })
  const redisUrl = await redisReachable(REDIS_URL) ? REDIS_URL : undefined
  const admin = file.users.gross
  const adminAuthorization = `Basic ${Buffer.from(`${admin.login}:${admin.password}`).toString('base64')}`
  const contenders = await startContenders({
    arzswUrl: data.arzswUrl, maxPageSize: file.maxPageSize, redisUrl, needed: new Set(['proxy-cached']), log,
    proxyScript: 'bench/soak-proxy.ts', proxyOverrides: { adminUsers: [admin.login] },
  })
  const proxy = contenders.http.get('proxy-cached')!
  const pool = new HttpConnections(proxy.url)
  const errors = new Map<string, number>()
  const countError = (kind: string) => errors.set(kind, (errors.get(kind) ?? 0) + 1)
  const send = scenarioSend(spec, file, data, pool)
  const counted: Send = async (connection, n) => {
    try {
      const outcome = await send(connection, n)
      if (outcome instanceof Error) countError(errorKind(outcome))
      return outcome
    } catch (error) {
      countError(errorKind(error as Error))
      throw error
    }
  }
  const pick = requestPicker(spec)
  const samples: SoakSample[] = []
  const loadStart = loadavg()
  const started = Date.now()
  let measuredFrom = Number.POSITIVE_INFINITY
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      const [rss, fds] = await Promise.all([rssMb(proxy.pid), openFileDescriptors(proxy.pid)])
      let heap: number | undefined
      try {
        heap = await heapUsedMb(proxy.url, adminAuthorization)
      } catch (error) {
        countError(`sampler: ${errorKind(error as Error)}`)
      }
      if (rss === undefined || fds === undefined) {
        countError('proxy process gone')
        return
      }
      const now = Date.now()
      // Warm-up samples get negative times: they are kept in the JSON but left out of every figure.
      const seconds = measuredFrom === Number.POSITIVE_INFINITY ? Math.min(-0.001, (now - started) / 1000 - cli.warmupSeconds) : (now - measuredFrom) / 1000
      samples.push({ seconds, rssMb: rss, fds, heapUsedMb: heap })
      await new Promise((resolve) => setTimeout(resolve, cli.sampleSeconds * 1000))
    }
  })()
  let warmup
  let result
  try {
    log(`proxy ${proxy.url} (pid ${proxy.pid}); warm-up ${cli.warmupSeconds} s, then ${cli.minutes} min of the production mix (${spec.connections} clients, one request each every ${spec.intervalMs} ms)`)
    warmup = await runTurn({ connections: spec.connections, intervalMs: spec.intervalMs, seconds: cli.warmupSeconds, maxRequests: Number.MAX_SAFE_INTEGER, send: counted, requestTimeoutMs: 60_000 })
    measuredFrom = Date.now()
    const progress = setInterval(() => {
      const last = samples[samples.length - 1]
      if (last) log(`${Math.round((Date.now() - measuredFrom) / 1000)} s: RSS ${last.rssMb.toFixed(1)} MB, ${last.fds} fds, heap ${last.heapUsedMb?.toFixed(1) ?? '?'} MB, errors ${[...errors.values()].reduce((a, b) => a + b, 0)}`)
    }, 60_000)
    try {
      result = await runTurn({
        connections: spec.connections, intervalMs: spec.intervalMs, seconds: cli.minutes * 60, maxRequests: Number.MAX_SAFE_INTEGER,
        send: counted, requestTimeoutMs: 60_000, labelOf: (n) => requestKind(pick(n)),
      })
    } finally {
      clearInterval(progress)
    }
  } finally {
    sampling = false
    await sampler
    await pool.close()
    await contenders.stop()
  }
  // A request that outlived runTurn's bound counts there as an error without reaching the counter above.
  const uncounted = warmup.errors + result.errors - [...errors].filter(([kind]) => !kind.startsWith('sampler') && kind !== 'proxy process gone').reduce((n, [, c]) => n + c, 0)
  if (uncounted > 0) errors.set('timeout (no answer within 60 s)', uncounted)
  const judged = judgeSoak(samples, cli.thresholds)
  const errorTotal = [...errors.values()].reduce((a, b) => a + b, 0)
  const ok = errorTotal === 0 && judged.verdict === 'stable'
  const date = new Date(started).toISOString()
  const loadEnd = loadavg()
  const byKind = [...result.byLabel].map(([kind, l]) => ({ kind, requests: l.latenciesMs.length, errors: l.errors, p50: round1(percentile(l.latenciesMs, 50)), p99: round1(percentile(l.latenciesMs, 99)) }))
  const json = {
    date, minutes: cli.minutes, warmupSeconds: cli.warmupSeconds, sampleSeconds: cli.sampleSeconds,
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
    loadAverage: { start: loadStart, end: loadEnd },
    data: { prefix: cli.prefix, rows: cli.rows, kleinRows: cli.kleinRows, preparation: data.steps },
    proxy: contenders.notes.find((n) => n.startsWith('proxy-cached')) ?? 'proxy-cached',
    requests: { warmup: warmup.requests, measured: result.requests, p50: round1(percentile(result.latenciesMs, 50)), p99: round1(percentile(result.latenciesMs, 99)), byKind },
    errors: Object.fromEntries(errors), errorSamples: [...warmup.errorSamples, ...result.errorSamples].slice(0, 10),
    thresholds: cli.thresholds, verdict: judged.verdict, reasons: judged.reasons,
    rssMb: judged.rss, fds: judged.fds, heapUsedMb: judged.heapUsed,
    samples,
  }
  const totalWeight = spec.requests.reduce((n, r) => n + r.weight, 0)
  const markdown = [
    `# Soak ${cli.minutes} min, ${date.slice(0, 16).replace('T', ' ')} UTC: ${judged.verdict.toUpperCase()}, ${errorTotal} errors`, '',
    `The production mix of bench/scenarios.json (\`mix\`: ${spec.connections} clients, each a request every ${spec.intervalMs} ms; ${spec.requests.map((r) => `${Math.round((100 * r.weight) / totalWeight)} % ${r.method} ${r.path} (${r.user})`).join(', ')}) ` +
    `through one proxy (${json.proxy}; config/production.json, limits off) in front of the legacy simulator, on ${cli.prefix}* (${cli.rows} prescriptions in the gross tenant${data.steps.length ? `; ${data.steps.join(', ')}` : ''}). ` +
    `Warm-up ${cli.warmupSeconds} s (not measured), then ${cli.minutes} min measured; the proxy sampled every ${cli.sampleSeconds} s. ` +
    `Machine: ${json.machine.cores} cores, ${json.machine.memoryGiB} GiB, Node ${json.machine.node}; load average ${loadStart.map((l) => l.toFixed(2)).join(' ')} at start, ${loadEnd.map((l) => l.toFixed(2)).join(' ')} at end (cores shared with other work). ` +
    `Reproduce: \`npm run soak -- --minutes ${cli.minutes}\`.`, '',
    `Requests: ${result.requests} measured (+${warmup.requests} warm-up), p50 ${json.requests.p50} ms, p99 ${json.requests.p99} ms. ` +
    `Errors: ${errorTotal === 0 ? 'none' : [...errors].map(([k, n]) => `${k}: ${n}`).join('; ')}.`, '',
    '| series | start (after warm-up) | end | max | growth per minute (second half) |', '|---|---:|---:|---:|---:|',
    row('RSS', 'MB', judged.rss), row('open file descriptors', 'count', judged.fds), row('heap used', 'MB', judged.heapUsed), '',
    `Verdict: **${judged.verdict}** — thresholds: RSS growth ≤ ${cli.thresholds.rssMbPerMinute} MB/min and file descriptor growth ≤ ${cli.thresholds.fdsPerMinute}/min ` +
    `(least-squares slope over the second half of the measured window; heap is reported, not judged, as it saws with every collection)${judged.reasons.length ? `: ${judged.reasons.join('; ')}` : ''}.`, '',
    '| request kind | requests | errors | p50 ms | p99 ms |', '|---|---:|---:|---:|---:|',
    ...byKind.map((k) => `| ${k.kind} | ${k.requests} | ${k.errors} | ${k.p50} | ${k.p99} |`), '',
    `Raw samples: ${date.slice(0, 10)}-soak.json beside this file.`, '',
  ].join('\n')
  await mkdir(cli.out, { recursive: true })
  const base = join(cli.out, `${date.slice(0, 10)}-soak`)
  await writeFile(`${base}.json`, JSON.stringify(json, null, 2) + '\n')
  await writeFile(`${base}.md`, markdown)
  console.log(markdown)
  log(`wrote ${base}.json and ${base}.md; ${ok ? 'stable, no errors' : 'FAILED'}`)
  return ok ? 0 : 1
}

process.exitCode = await main()
