// Starts what a run compares, each its own process on loopback: the legacy simulator, three proxies wired
// as `npm start` (route off; on with the cache off; on with the cache), nginx in front of the simulator,
// and the bare node:http floor. The raw SQL floor runs in the harness itself (bench/sql-floor.ts).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../proxy/listen.ts'
import type { ContenderId } from './scenario-model.ts'

export interface HttpContender {
  readonly id: ContenderId
  readonly url: string
  /** The process serving it, for RSS and socket sampling. */
  readonly pid: number
}

export interface Contenders {
  readonly http: ReadonlyMap<ContenderId, HttpContender>
  /** What each proxy was configured with, for the report. */
  readonly notes: readonly string[]
  stop(): Promise<void>
}

export interface ContenderOptions {
  readonly arzswUrl: string
  readonly maxPageSize: number
  readonly redisUrl: string | undefined
  readonly needed: ReadonlySet<ContenderId>
  readonly log: (line: string) => void
  /** The proxies' entry point; default bench/proxy-instance.ts. */
  readonly proxyScript?: string
  /** Added to every proxy's configuration (the soak run names an admin user to read the heap). */
  readonly proxyOverrides?: Readonly<Record<string, unknown>>
}

const ROOT = new URL('..', import.meta.url).pathname
const NODE = process.execPath

interface Started {
  readonly child: ChildProcess
  readonly match: RegExpMatchArray | undefined
  /** The last 20,000 characters it wrote to stdout and stderr. */
  output(): string
}

function start(command: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp | undefined): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    if (ready === undefined) resolve({ child, match: undefined, output: () => output })
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000)
      const match = ready?.exec(output)
      if (match) resolve({ child, match, output: () => output })
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('error', (error) => reject(new Error(`${command} could not start: ${error.message}`)))
    child.once('exit', (code) => reject(new Error(`${command} ${args.join(' ')} exited (${code}) before it was ready:\n${output}`)))
  })
}

async function waitForHttp(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const answer = await fetch(url)
      await answer.arrayBuffer()
      if (answer.status < 500) return
    } catch {}
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`${url} did not answer`)
}

export async function startContenders(options: ContenderOptions): Promise<Contenders> {
  const children: ChildProcess[] = []
  const http = new Map<ContenderId, HttpContender>()
  const notes: string[] = ['every proxy: config/production.json, limits.enabled false (the rate limits would throttle a benchmark\'s few users by design), maxPageSize 1000']
  const nginxDir = await mkdtemp(join(tmpdir(), 'bench-nginx-'))
  // Should the harness die without stop(), its servers must not outlive it.
  const orphanGuard = () => { for (const child of children) child.kill('SIGKILL') }
  process.once('exit', orphanGuard)
  let stopping = false
  // A server that dies while the run goes on would show only as refused connections: say why it died.
  const watch = (name: string, started: Started) => {
    children.push(started.child)
    started.child.once('exit', (code, signal) => {
      if (!stopping) options.log(`${name} exited (${code ?? signal}) during the run; its last output:\n${started.output().slice(-4000)}`)
    })
  }
  const stop = async () => {
    stopping = true
    await Promise.all(children.map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      const hard = setTimeout(() => child.kill('SIGKILL'), 3000)
      child.once('exit', () => { clearTimeout(hard); resolve() })
      child.kill('SIGTERM')
    })))
    await rm(nginxDir, { recursive: true, force: true })
    process.removeListener('exit', orphanGuard)
  }
  try {
    const simPort = await freePort()
    const sim = await start(NODE, ['legacy-sim/main.ts', '--port', String(simPort), '--host', '127.0.0.1'],
      { ARZSW_URL: options.arzswUrl, LEGACY_MAX_PAGE_SIZE: String(options.maxPageSize), LEGACY_ENVIRONMENT: 'Development' }, /listening/)
    watch('simulator', sim)
    const simUrl = `http://127.0.0.1:${simPort}`
    http.set('simulator', { id: 'simulator', url: simUrl, pid: sim.child.pid! })

    const proxyBase = {
      legacyUrl: simUrl, arzswUrl: options.arzswUrl, host: '127.0.0.1', port: 0, 'admin.host': '127.0.0.1', 'admin.port': 0,
      logLevel: 'warn', maxPageSize: options.maxPageSize, environment: 'Development',
      // The simulator's settings, set explicitly (no probe user here): on/canary need them known.
      'avsSystem.manufacturer': 'GfAL', 'avsSystem.name': 'ArzTi', 'avsSystem.version': '3.0',
      'upstream.headersTimeoutMs': 120_000, 'upstream.bodyTimeoutMs': 60_000,
      // Rate limits (issue 9) would refuse a benchmark's few users at loopback rates by design, and their
      // per-tenant cap would shed fast-path requests to the simulator: the bench measures the serving path.
      'limits.enabled': false,
      // The background sample (1 % of fast answers re-read from the legacy, at most 2 per second) is
      // a full legacy request each: at the closed loop's hundreds of cached polls per second it keeps
      // the simulator (4 req/s here, BCrypt and its queries) and its database busy on the same two
      // cores; measured: 248 instead of 778 cached polls per second. In production it is 1 % of the
      // traffic the legacy served before. The bench measures the serving path.
      'shadow.samplePercent': 0,
      ...options.proxyOverrides,
    }
    const proxies: Array<[ContenderId, Record<string, unknown>, string]> = [
      ['proxy-off', { ...proxyBase, flags: 'v2.rezept.list=off,v2.rezept.pharmacy=off,v2.rezept.statusuuid=off' }, 'proxy-off: flags off (every request passed to the simulator)'],
      ['proxy-on', { ...proxyBase, flags: 'v2.rezept.list=on,v2.rezept.pharmacy=on,v2.rezept.statusuuid=on', fastPath: { cache: { routes: { 'v2.rezept.list': 'off', 'v2.rezept.pharmacy': 'off' } } } },
        'proxy-on: flags on, fastPath.cache.routes off (every answer from the tenant database)'],
      ['proxy-cached', {
        ...proxyBase, flags: 'v2.rezept.list=on,v2.rezept.pharmacy=on,v2.rezept.statusuuid=on', fastPath: { cache: { routes: { 'v2.rezept.list': 'ttl', 'v2.rezept.pharmacy': 'ttl' }, maxStaleMs: 2000 } },
        ...(options.redisUrl ? { redisUrl: options.redisUrl, redisKeyPrefix: `bench:${process.pid}:` } : {}),
      }, `proxy-cached: flags on, cache ttl with maxStaleMs 2000 (the default), ${options.redisUrl ? 'L1 + Redis L2' : 'L1 only (no Redis reachable)'}`],
    ]
    await Promise.all(proxies.filter(([id]) => options.needed.has(id)).map(async ([id, overrides, note]) => {
      const profile = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`, `--cpu-prof-name=${id}.cpuprofile`] : []
      const proxy = await start(NODE, [...profile, options.proxyScript ?? 'bench/proxy-instance.ts'], { BENCH_PROXY_OVERRIDES: JSON.stringify(overrides) }, /listening (http:\/\/\S+)/)
      watch(id, proxy)
      http.set(id, { id, url: proxy.match![1]!, pid: proxy.child.pid! })
      notes.push(note)
    }))

    if (options.needed.has('nginx')) {
      const nginxPort = await freePort()
      await writeFile(join(nginxDir, 'nginx.conf'), nginxConfig(nginxPort, simPort, nginxDir))
      const nginx = await start('nginx', ['-p', nginxDir, '-c', join(nginxDir, 'nginx.conf'), '-g', 'daemon off;'], {}, undefined)
      watch('nginx', nginx)
      const url = `http://127.0.0.1:${nginxPort}`
      await waitForHttp(`${url}/api/Health/arzsw`)
      http.set('nginx', { id: 'nginx', url, pid: nginx.child.pid! })
      notes.push('nginx: Debian\'s nginx, one worker, keep-alive upstream to the simulator')
    }
    if (options.needed.has('http-floor')) {
      const floor = await start(NODE, ['bench/http-floor-server.ts'], {}, /listening (http:\/\/\S+)/)
      watch('http-floor', floor)
      http.set('http-floor', { id: 'http-floor', url: floor.match![1]!, pid: floor.child.pid! })
    }
  } catch (error) {
    await stop()
    throw error
  }
  return { http, notes, stop }
}

function nginxConfig(port: number, simPort: number, dir: string): string {
  // One worker: the proxy is one Node process, so both get one core's worth of event loop.
  return `worker_processes 1;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 4096; }
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
    keepalive_requests 1000000;
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
