// `npm run bench -- --quick` keeps the benchmark harness itself working: on 1k-row t_bench_ data with tiny
// counts it must run every scenario against every contender the scenario file names, without one failed
// request, and write its JSON and Markdown. The figures themselves are not judged (no timed test).
import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import type { ContenderFigures, ScenarioFigures } from '../../bench/report.ts'
import type { ScenarioFile } from '../../bench/scenario-model.ts'
import { pgAdminUrl, redisUrl } from '../../dev/services.ts'

const ROOT = new URL('../../', import.meta.url).pathname
const nginxMissing = spawnSync('sh', ['-c', 'command -v nginx']).status !== 0

t.test('--quick runs every scenario and contender without errors and writes JSON and Markdown',
  nginxMissing ? { skip: 'nginx not installed (Debian package "nginx"; .ci/tools installs it in CI)' } : {}, async (t) => {
    const out = await mkdtemp(join(tmpdir(), 'bench-quick-'))
    t.teardown(() => rm(out, { recursive: true, force: true }))
    const file = JSON.parse(await readFile(join(ROOT, 'bench/scenarios.json'), 'utf8')) as ScenarioFile
    const run = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, ['bench/main.ts', '--quick', '--out', out], {
        cwd: ROOT, env: { ...process.env, PG_ADMIN_URL: pgAdminUrl(), BENCH_REDIS_URL: redisUrl() }, stdio: ['ignore', 'pipe', 'pipe'],
      })
      let output = ''
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
      const timer = setTimeout(() => child.kill('SIGKILL'), 240_000)
      child.on('close', (code) => { clearTimeout(timer); resolve({ code, output }) })
    })
    t.equal(run.code, 0, run.output.slice(-3000))
    const written = (await readdir(out)).sort()
    t.match(written, [/-quick\.json$/, /-quick\.md$/])
    const json = JSON.parse(await readFile(join(out, written[0]!), 'utf8')) as { machine: { cores: number; memoryGiB: number; node: string; postgres: string }; scenarios: ScenarioFigures[]; memory: unknown[] }
    t.ok(json.machine.cores > 0 && json.machine.memoryGiB > 0 && json.machine.node.startsWith('v') && json.machine.postgres, 'machine recorded')
    t.same(json.scenarios.map((s) => s.id), file.scenarios.map((s) => s.id), 'every scenario ran')
    const markdown = await readFile(join(out, written[1]!), 'utf8')
    for (const spec of file.scenarios) {
      const figures = json.scenarios.find((s) => s.id === spec.id)!
      t.same(figures.contenders.map((c: ContenderFigures) => c.contender), spec.contenders, `${spec.id}: every contender`)
      for (const c of figures.contenders) {
        t.ok(c.requests > 0, `${spec.id} ${c.contender}: requests sent`)
        t.equal(c.errors, 0, `${spec.id} ${c.contender}: no errors ${c.errorSamples.join('; ')}`)
        t.ok(Number.isFinite(c.p50) && Number.isFinite(c.p99) && c.rps > 0, `${spec.id} ${c.contender}: figures`)
      }
      t.match(markdown, `### ${spec.id}: `, `${spec.id} in the Markdown`)
    }
    t.equal(json.memory.length, file.memory.requests.length, 'heap growth measured for each memory request')
    t.match(markdown, /\| proxy-cached \| \d+ \| [\d.]+ \|/, 'table rows in the Markdown')
  })
