// `npm run bench [-- [--quick] [--out DIR] [scenario|alias|memory ...]]`: every performance figure of the
// project comes from here. Prepares the data (seeds the 1M-row bench_ installation where missing), starts
// the contenders on loopback, runs the scenarios of bench/scenarios.json with the contenders alternating
// A B A B, measures one big request's heap growth, prints the Markdown table and writes raw JSON and the
// Markdown to docs/benchmarks/<date>-<set>.{json,md}. `--quick`: 1k-row t_bench_ data, tiny counts (CI).
import { execFileSync } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { DEFAULT_PG_ADMIN_URL, DEFAULT_REDIS_URL, redisReachable } from '../dev/services.ts'
import { startContenders, type Contenders } from './contenders.ts'
import { HttpConnections, runTurn, type Send } from './load.ts'
import { prepareData, type PreparedData } from './prepare-data.ts'
import { sampleProcess } from './process-sampler.ts'
import { scenarioMarkdown, summarise, type ScenarioFigures, type TaggedTurn } from './report.ts'
import { credentialsFor, type ContenderId, type ScenarioFile, type ScenarioSpec } from './scenario-model.ts'
import { requestKind, requestPicker, scenarioSend } from './scenario-requests.ts'
import { sqlFloor, type SqlFloor } from './sql-floor.ts'

const ROOT = new URL('..', import.meta.url).pathname
const PG_ADMIN_URL = process.env.PG_ADMIN_URL ?? DEFAULT_PG_ADMIN_URL
const REDIS_URL = process.env.BENCH_REDIS_URL ?? DEFAULT_REDIS_URL
const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`)

interface Cli {
  readonly quick: boolean
  readonly out: string
  readonly names: readonly string[]
  /** `--only a,b`: run just these contenders of each scenario (a quick look while working; not a record). */
  readonly only: ReadonlySet<string> | undefined
}

function parseCli(argv: readonly string[], file: ScenarioFile): Cli {
  let quick = false
  let out = join(ROOT, 'docs/benchmarks')
  const names: string[] = []
  let only: Set<string> | undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--quick') quick = true
    else if (arg === '--out') out = argv[++i] ?? ''
    else if (arg === '--only') only = new Set((argv[++i] ?? '').split(',').filter((c) => c !== ''))
    else if (arg === '-h' || arg === '--help') throw new UsageError('')
    else names.push(arg)
  }
  const known = new Set([...file.scenarios.map((s) => s.id), ...Object.keys(file.aliases), 'memory'])
  const unknown = names.filter((n) => !known.has(n))
  if (unknown.length > 0 || out === '') throw new UsageError(unknown.length > 0 ? `unknown scenario: ${unknown.join(', ')}` : '--out needs a folder')
  const contenders = new Set(file.scenarios.flatMap((s) => s.contenders))
  const strangers = [...(only ?? [])].filter((c) => !contenders.has(c as ContenderId))
  if (only !== undefined && (only.size === 0 || strangers.length > 0)) throw new UsageError(`--only needs contenders from: ${[...contenders].join(', ')}`)
  return { quick, out, names, only }
}

class UsageError extends Error {}

function usage(file: ScenarioFile): string {
  return 'usage: npm run bench [-- [--quick] [--out DIR] [--only contender,...] [name...]]   (no name: every scenario and memory)\n' +
    file.scenarios.map((s) => `  ${s.id.padEnd(12)} ${s.title}`).join('\n') + '\n' +
    `  ${'memory'.padEnd(12)} heap growth of one pageSize=5000 request\n` +
    Object.entries(file.aliases).map(([name, ids]) => `  ${name.padEnd(12)} alias: ${ids.join(' ')}`).join('\n')
}

/** The scenario as run: the file's, or --quick's tiny counts. */
function effective(spec: ScenarioSpec, file: ScenarioFile, quick: boolean): { connections: number; intervalMs: number | undefined; rounds: number; seconds: number; maxRequests: number } {
  if (!quick) return { connections: spec.connections, intervalMs: spec.intervalMs, rounds: spec.rounds, seconds: spec.turn.seconds, maxRequests: spec.turn.maxRequests }
  const q = file.quick
  return {
    connections: spec.intervalMs !== undefined && spec.connections > 100 ? q.crowdConnections : Math.min(spec.connections, q.maxConnections),
    intervalMs: spec.intervalMs === undefined ? undefined : q.intervalMs,
    rounds: q.rounds, seconds: q.turn.seconds, maxRequests: q.turn.maxRequests,
  }
}

async function runScenario(spec: ScenarioSpec, file: ScenarioFile, cli: Cli, data: PreparedData, contenders: Contenders, floor: SqlFloor): Promise<ScenarioFigures> {
  const run = effective(spec, file, cli.quick)
  const authorization = new Map<string, string>()
  const auth = (login: string, password: string) => {
    let header = authorization.get(login)
    if (header === undefined) authorization.set(login, header = `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`)
    return header
  }
  // The same deterministic request sequence for every contender: request n of a turn is picked from n.
  const pick = requestPicker(spec)
  const connections = new Map<ContenderId, HttpConnections>()
  const sends = new Map<ContenderId, Send>()
  for (const id of spec.contenders) {
    if (id === 'sql-floor') {
      const bySpec = new Map(spec.requests.map((r) => [r, floor.sendFor(r.path)]))
      sends.set(id, (connection, n) => bySpec.get(pick(n))!(connection, n))
      continue
    }
    const pool = new HttpConnections(contenders.http.get(id)!.url)
    connections.set(id, pool)
    sends.set(id, scenarioSend(spec, file, data, pool))
  }
  try {
    if (spec.contenders.includes('http-floor')) await loadFloorBytes(spec, file, contenders, auth)
    const loadAverage = loadavg()
    // Warm-up, not recorded: one request per connection (pools, prepared statements, credentials, cache).
    // A cold scenario (the crowd after a restart) is measured from the first request on.
    for (const id of spec.cold ? [] : spec.contenders) {
      await runTurn({ connections: run.connections, intervalMs: undefined, seconds: cli.quick ? 2 : 20, maxRequests: run.connections, send: sends.get(id)!, requestTimeoutMs: 120_000 })
    }
    const labelOf = spec.requests.length > 1 ? (n: number) => requestKind(pick(n)) : undefined
    const crowdFigures = spec.steadyAfterSeconds === undefined ? {} : {
      steadyAfterMs: spec.steadyAfterSeconds * 1000,
      userOf: (n: number) => credentialsFor(file, pick(n).user, n, data.benchUserCount).login,
    }
    const turns: TaggedTurn[] = []
    for (let round = 1; round <= run.rounds; round++) {
      for (const id of spec.contenders) {
        const pid = contenders.http.get(id)?.pid
        const sampler = sampleProcess(pid, { intervalMs: 200, countSockets: spec.id === 'crowd' })
        const result = await runTurn({ connections: run.connections, intervalMs: run.intervalMs, seconds: run.seconds, maxRequests: run.maxRequests, send: sends.get(id)!, requestTimeoutMs: 60_000, ...(labelOf ? { labelOf } : {}), ...crowdFigures })
        const peak = await sampler.stop()
        turns.push({ contender: id, round, result, ...peak })
        log(`${spec.id} round ${round} ${id.padEnd(12)} ${result.requests} requests, ${(result.requests / result.seconds).toFixed(1)} req/s, errors ${result.errors}`)
      }
    }
    return summarise(spec, turns, loadAverage, run.intervalMs, run.connections, run.rounds, run.seconds)
  } finally {
    for (const pool of connections.values()) await pool.close()
  }
}

/** Gives the http floor the very bytes the cached proxy sends for each GET of the scenario. */
async function loadFloorBytes(spec: ScenarioSpec, file: ScenarioFile, contenders: Contenders, auth: (login: string, password: string) => string): Promise<void> {
  const source = contenders.http.get('proxy-cached') ?? contenders.http.get('proxy-on') ?? contenders.http.get('simulator')!
  const floor = contenders.http.get('http-floor')!
  for (const request of spec.requests.filter((r) => r.method === 'GET')) {
    const user = credentialsFor(file, request.user, 0, 1)
    const answer = await fetch(source.url + request.path, { headers: { authorization: auth(user.login, user.password) } })
    const body = Buffer.from(await answer.arrayBuffer())
    if (answer.status !== 200) throw new Error(`floor bytes for ${request.path}: HTTP ${answer.status}`)
    const put = await fetch(`${floor.url}/__floor?path=${encodeURIComponent(request.path)}`, { method: 'PUT', body, headers: { 'content-type': answer.headers.get('content-type') ?? '' } })
    await put.arrayBuffer()
  }
}

interface MemoryResult {
  readonly path: string
  readonly bodyMb: number
  readonly heapGrowthMb: number
  readonly heapRetainedMb: number
  readonly arrayBuffersGrowthMb: number
  readonly rssMb: number
}

function memoryProbe(file: ScenarioFile, data: PreparedData): MemoryResult[] {
  const user = file.users.gross
  const output = execFileSync(process.execPath, ['--expose-gc', join(ROOT, 'bench/probes/memory-probe.ts')], {
    env: {
      ...process.env, ARZSW_URL: data.arzswUrl, MAX_PAGE_SIZE: '5000', BENCH_PATHS: JSON.stringify(file.memory.requests),
      BENCH_AUTH: `Basic ${Buffer.from(`${user.login}:${user.password}`).toString('base64')}`,
    },
    encoding: 'utf8', maxBuffer: 1 << 20,
  })
  return JSON.parse(output.trim().split('\n').pop()!) as MemoryResult[]
}

function memoryMarkdown(file: ScenarioFile, results: readonly MemoryResult[]): string {
  return ['### memory: one request of pageSize=5000 (fast path, cache off, in-process, after a warm-up)', '',
    '| request | body MB | heap growth MB (while it ran) | heap kept after GC MB | Buffer memory growth MB | process RSS MB |', '|---|---:|---:|---:|---:|---:|',
    ...results.map((r) => `| ${r.path} | ${r.bodyMb} | ${r.heapGrowthMb} | ${r.heapRetainedMb} | ${r.arrayBuffersGrowthMb} | ${r.rssMb.toFixed(0)} |`), '',
    ...results.map((r) => `- ${r.heapGrowthMb < file.memory.targetHeapGrowthMb ? 'MET' : 'MISSED'}: heap growth under ${file.memory.targetHeapGrowthMb} MB for ${r.path} (${r.heapGrowthMb} MB); ` +
      `heap + Buffers ${(r.heapGrowthMb + r.arrayBuffersGrowthMb).toFixed(1)} MB against the seeds' ${file.memory.seedBoundMb} MB per request`),
  ].join('\n')
}

async function machine(): Promise<Record<string, string | number>> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL })
  await client.connect()
  const postgres = (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version
  await client.end()
  let nginx = 'nginx not installed'
  try {
    nginx = execFileSync('sh', ['-c', 'nginx -v 2>&1'], { encoding: 'utf8' }).trim()
  } catch {}
  return { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, postgres, nginx }
}

async function main(): Promise<number> {
  const file = JSON.parse(await readFile(join(ROOT, 'bench/scenarios.json'), 'utf8')) as ScenarioFile
  let cli: Cli
  try {
    cli = parseCli(process.argv.slice(2), file)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    if (error.message) console.error(error.message)
    console.error(usage(file))
    return error.message ? 2 : 0
  }
  const started = performance.now()
  const ids = new Set(cli.names.length === 0 ? [...file.scenarios.map((s) => s.id), 'memory'] : cli.names.flatMap((n) => file.aliases[n] ?? [n]))
  const scenarios = file.scenarios.filter((s) => ids.has(s.id))
    .map((s) => (cli.only === undefined ? s : { ...s, contenders: s.contenders.filter((c) => cli.only!.has(c)) }))
    .filter((s) => s.contenders.length > 0)
  const setName = cli.quick ? 'quick' : cli.names.length === 0 ? 'all' : cli.names.join('+')
  const prefix = cli.quick ? 't_bench_' : 'bench_'
  const data = await prepareData(file, {
    pgAdminUrl: PG_ADMIN_URL, prefix, rows: cli.quick ? file.quick.rows : 1_000_000, kleinRows: cli.quick ? file.quick.kleinRows : 5000,
    benchUsers: cli.quick ? file.quick.benchUsers : file.benchUsers.count, log,
  })
  const redisUrl = (await redisReachable(REDIS_URL)) ? REDIS_URL : undefined
  const needed = new Set(scenarios.flatMap((s) => s.contenders))
  log(`starting ${[...needed].join(', ')}`)
  const contenders = await startContenders({ arzswUrl: data.arzswUrl, maxPageSize: file.maxPageSize, redisUrl, needed, log })
  const floor = sqlFloor(data.grossUrl, file.maxPageSize)
  const figures: ScenarioFigures[] = []
  let memory: MemoryResult[] | undefined
  const loadStart = loadavg()
  try {
    for (const spec of scenarios) figures.push(await runScenario(spec, file, cli, data, contenders, floor))
  } finally {
    await floor.close()
    await contenders.stop()
  }
  if (ids.has('memory')) memory = memoryProbe(file, data)
  const loadEnd = loadavg()
  const info = await machine()
  const date = new Date().toISOString()
  const seconds = (performance.now() - started) / 1000
  const markdown = [
    `# Benchmark ${setName}, ${date.slice(0, 16).replace('T', ' ')} UTC`, '',
    `Machine: ${info.cores} cores (${info.cpu}), ${info.memoryGiB} GiB, Node ${info.node}, PostgreSQL ${info.postgres}, ${info.nginx}. ` +
    `Data: ${prefix}* (${cli.quick ? file.quick.rows : 1_000_000} prescriptions in the gross tenant${data.steps.length ? `; ${data.steps.join(', ')}` : ''}). ` +
    `Load average at start ${loadStart.map((l) => l.toFixed(2)).join(' ')}, at end ${loadEnd.map((l) => l.toFixed(2)).join(' ')} (the cores are shared with other work: compare contenders within this run, not with other runs). ` +
    `Total ${seconds.toFixed(0)} s. Reproduce: \`npm run bench${cli.quick || cli.names.length ? ` -- ${[...(cli.quick ? ['--quick'] : []), ...cli.names].join(' ')}` : ''}\`.`, '',
    'Contenders: simulator = legacy-sim direct; ' + contenders.notes.join('; ') +
    '; sql-floor = the fast path\'s page statements, then its snapshot query, on a bare pg pool, no HTTP; http-floor = bare node:http sending the cached proxy\'s bytes for the path from memory. ' +
    'Latency is measured by the client (bench/lean-http.ts: one reused read buffer per socket, in the harness process on the same cores), from send to the last body byte; paced scenarios count from when the request was due.', '',
    ...figures.map(scenarioMarkdown).flatMap((block) => [block, '']),
    ...(memory ? [memoryMarkdown(file, memory), ''] : []),
  ].join('\n')
  const json = { date, set: setName, quick: cli.quick, machine: info, loadAverage: { start: loadStart, end: loadEnd }, seconds, prefix, preparation: data.steps, contenders: contenders.notes, scenarios: figures, memory }
  await mkdir(cli.out, { recursive: true })
  const base = join(cli.out, `${date.slice(0, 10)}-${setName}`)
  await writeFile(`${base}.json`, JSON.stringify(json, null, 2) + '\n')
  await writeFile(`${base}.md`, markdown)
  console.log(markdown)
  log(`wrote ${base}.json and ${base}.md in ${seconds.toFixed(0)} s`)
  return 0
}

process.exitCode = await main()
