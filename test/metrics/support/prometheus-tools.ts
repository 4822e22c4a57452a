// Finds Debian's prometheus and promtool binaries (CI installs them from .ci/tools), runs promtool,
// and starts a throwaway Prometheus on a loopback port with its data in a temporary directory.
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { request } from 'undici'
import { freePort } from '../../../proxy/listen.ts'

export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin', '/usr/sbin']
  for (const dir of dirs) {
    if (dir === '') continue
    const path = join(dir, name)
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {
      // not here
    }
  }
  return undefined
}

/** tap's skip option with the reason when the binary is missing: never a silent pass. */
export function needsBinary(name: string): { skip?: string } {
  return findBinary(name) === undefined ? { skip: `${name} not installed (Debian package "prometheus"; .ci/tools installs it in CI)` } : {}
}

export function run(binary: string, args: readonly string[], options: { cwd?: string; input?: string } = {}): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] })
    child.stdin.end(options.input ?? '')
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? 1, output }))
  })
}

export interface ThrowawayPrometheus {
  readonly url: string
  /** The result of an instant query; throws when Prometheus reports an error (a PromQL syntax error, say). */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>
  get(path: string): Promise<unknown>
  stop(): Promise<void>
}

export async function startPrometheus(options: { target: string; ruleFiles?: readonly string[] }): Promise<ThrowawayPrometheus> {
  const binary = findBinary('prometheus')
  if (binary === undefined) throw new Error('prometheus not installed')
  const dir = await mkdtemp(join(tmpdir(), 'fastpath-prometheus-'))
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    ...(options.ruleFiles?.length ? ['rule_files:', ...options.ruleFiles.map((f) => `  - ${JSON.stringify(f)}`)] : []),
    'scrape_configs:',
    '  - job_name: arzti-fastpath',
    '    static_configs:',
    `      - targets: [${JSON.stringify(options.target)}]`,
    '',
  ].join('\n')
  await writeFile(join(dir, 'prometheus.yml'), config)
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const child: ChildProcess = spawn(binary, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))

  const get = async (path: string): Promise<unknown> => {
    const answer = await request(`${url}${path}`)
    const body = (await answer.body.json()) as { status: string; data: unknown; error?: string }
    if (body.status !== 'success') throw new Error(`prometheus ${path}: ${body.error ?? answer.statusCode}`)
    return body.data
  }
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM')
    await exited
    await rm(dir, { recursive: true, force: true })
  }
  const readyBy = Date.now() + 20_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}): ${log}`)
    try {
      const ready = await request(`${url}/-/ready`)
      await ready.body.dump()
      if (ready.statusCode === 200) break
    } catch {
      // not listening yet
    }
    if (Date.now() > readyBy) {
      await stop()
      throw new Error(`prometheus not ready within 20 s: ${log}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  return {
    url,
    get,
    query: async (promql) => ((await get(`/api/v1/query?query=${encodeURIComponent(promql)}`)) as { result: Array<{ metric: Record<string, string>; value: [number, string] }> }).result,
    stop,
  }
}
