// The soak harness in CI (the 10-minute run is `npm run soak`): its verdict tells a leak from a flat or
// warming-up process, and a 20-second run of the production mix through a real proxy samples the
// proxy, counts requests and errors, and writes its report.
import { spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { judgeSoak, slope, type SoakSample } from '../../bench/soak-analysis.ts'
import { seededRandom } from '../support/seeded-random.ts'
import { pgAdminUrl, redisUrl } from '../../dev/services.ts'

const ROOT = new URL('../../', import.meta.url).pathname
const THRESHOLDS = { rssMbPerMinute: 2, fdsPerMinute: 1 }

/** Ten minutes sampled every 5 s (after a minute of warm-up at negative times), RSS and fds given per minute. */
function series(rss: (minute: number) => number, fds: (minute: number) => number, seed = 1): SoakSample[] {
  const noise = seededRandom(seed)
  const samples: SoakSample[] = []
  for (let s = -60; s <= 600; s += 5) {
    samples.push({ seconds: s, rssMb: rss(s / 60) + (noise() - 0.5) * 6, fds: Math.round(fds(s / 60)), heapUsedMb: 30 + noise() * 20 })
  }
  return samples
}

t.test('slope is the least-squares slope', async (t) => {
  t.equal(slope([[0, 1], [1, 3], [2, 5]]), 2)
  t.equal(slope([[0, 4], [1, 4]]), 0)
  t.equal(slope([[1, 4]]), 0, 'one point: no slope')
})

t.test('a flat, noisy process is stable', async (t) => {
  const judged = judgeSoak(series(() => 150, () => 90), THRESHOLDS)
  t.equal(judged.verdict, 'stable', judged.reasons.join('; '))
  t.ok(Math.abs(judged.rss.growthPerMinute) < 2, `RSS slope ${judged.rss.growthPerMinute}`)
  t.equal(judged.fds.start, 90)
  t.ok(judged.heapUsed !== undefined, 'heap reported')
})

t.test('growth that stops in the first half (caches filling) is stable; the warm-up is ignored', async (t) => {
  const judged = judgeSoak(series((m) => (m < 0 ? 50 : 150 + 40 * Math.min(m, 4) / 4), (m) => (m < 0 ? 10 : 90)), THRESHOLDS)
  t.equal(judged.verdict, 'stable', judged.reasons.join('; '))
  t.ok(judged.rss.start > 140, 'start is after the warm-up')
  t.ok(judged.rss.max > 185, 'max over the window')
})

t.test('an RSS leak of 5 MB/min is growing', async (t) => {
  const judged = judgeSoak(series((m) => 150 + 5 * m, () => 90), THRESHOLDS)
  t.equal(judged.verdict, 'growing')
  t.ok(judged.rss.growthPerMinute > 4 && judged.rss.growthPerMinute < 6, `slope ${judged.rss.growthPerMinute}`)
  t.match(judged.reasons.join(), /RSS grows/)
})

t.test('a descriptor leak of two per minute is growing', async (t) => {
  const judged = judgeSoak(series(() => 150, (m) => 90 + 2 * m), THRESHOLDS)
  t.equal(judged.verdict, 'growing')
  t.match(judged.reasons.join(), /file descriptors grow/)
})

t.test('no measured samples is an error, not a verdict', async (t) => {
  t.throws(() => judgeSoak([{ seconds: -1, rssMb: 1, fds: 1, heapUsedMb: 1 }], THRESHOLDS), /no samples/)
})

function runSoak(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bench/soak.ts', ...args], {
      cwd: ROOT, env: { ...process.env, PG_ADMIN_URL: pgAdminUrl(), BENCH_REDIS_URL: redisUrl() }, stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

t.test('bad arguments exit 2 with the usage', async (t) => {
  const run = await runSoak(['--minutes', 'ten'])
  t.equal(run.code, 2)
  t.match(run.output, /--minutes must be a number[\s\S]*usage: npm run soak/)
})

t.test('20 seconds of the production mix: samples, counts, no errors, report written', async (t) => {
  const out = await mkdtemp(join(tmpdir(), 'soak-quick-'))
  t.teardown(() => rm(out, { recursive: true, force: true }))
  // Growth thresholds out of reach: 20 s is all warm-up for a proxy, so the verdict is tested above.
  const run = await runSoak(['--minutes', '0.33', '--warmup-seconds', '3', '--sample-seconds', '1', '--prefix', 't_soak_', '--rows', '1000', '--klein-rows', '300',
    '--out', out, '--max-rss-growth', '100000', '--max-fd-growth', '100000'])
  t.equal(run.code, 0, run.output.slice(-3000))
  const written = (await readdir(out)).sort()
  t.match(written, [/-soak\.json$/, /-soak\.md$/])
  const report = JSON.parse(await readFile(join(out, written[0]!), 'utf8')) as {
    requests: { measured: number; warmup: number; byKind: Array<{ kind: string; requests: number }> }
    errors: Record<string, number>
    verdict: string
    rssMb: { start: number; end: number; max: number; growthPerMinute: number }
    fds: { start: number; max: number }
    heapUsedMb: { start: number } | undefined
    samples: SoakSample[]
  }
  t.same(report.errors, {}, 'no errors')
  t.equal(report.verdict, 'stable')
  // 50 clients each every 3 s for 20 s: about 330 requests.
  t.ok(report.requests.measured > 200, `${report.requests.measured} requests measured`)
  t.ok(report.requests.byKind.length >= 6, 'the mix: polls, writes and pass-through')
  t.ok(report.samples.filter((s) => s.seconds >= 0).length >= 10, 'sampled every second')
  t.ok(report.rssMb.start > 20 && report.rssMb.max >= report.rssMb.end, 'RSS of a Node process')
  t.ok(report.fds.start >= 50, `open fds include the 50 client sockets (${report.fds.start})`)
  t.ok(report.heapUsedMb !== undefined && report.heapUsedMb.start > 1, 'heap read from the proxy')
  const markdown = await readFile(join(out, written[1]!), 'utf8')
  t.match(markdown, /Verdict: \*\*stable\*\*/)
  t.match(markdown, /\| RSS \(MB\) \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [+-][\d.]+ \|/)
})
