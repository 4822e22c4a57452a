// A signal sent to the `npm start` process itself (a shell's kill, a supervisor, `docker stop` on an
// npm entrypoint) must reach node: npm 11 exits 143 at once on SIGTERM and ignores SIGINT, and the
// `sh -c` it runs the script in forwards neither, so node used to be left orphaned and serving (issue 17).
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import t from 'tap'
import { startEchoUpstream } from './support/echo-upstream.ts'

const ROOT = new URL('../..', import.meta.url).pathname

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** The processes whose parent is `pid` (ps -o pid= --ppid). */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map((line) => Number(line.trim())).filter((n) => n > 0)
  } catch {
    return [] // ps exits 1 when there is none
  }
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  t.test(`${signal} to the npm start process drains node, exits 0 and leaves no process behind`, async (t) => {
    const upstream = await startEchoUpstream()
    t.teardown(() => upstream.close())
    const env = { ...process.env, FASTPATH_ENV: 'test', LEGACY_URL: upstream.url, LOG_LEVEL: 'info', REDIS_URL: '', AUDIT_LOG: 'off' }
    const npm = spawn('npm', ['start', '--silent'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
    const below: number[] = []
    t.teardown(() => {
      for (const pid of below) if (alive(pid)) process.kill(pid, 'SIGKILL')
      if (npm.exitCode === null) npm.kill('SIGKILL')
    })
    let output = ''
    npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const started = performance.now()
    while (!output.includes('proxy listening') && npm.exitCode === null && performance.now() - started < 30_000) await new Promise((r) => setTimeout(r, 50))
    const url = /"url":"([^"]+)"/.exec(output)?.[1]
    if (url === undefined) return void t.fail(`npm start did not come up: ${output.slice(-500)}`)
    // Every process npm started, and theirs: none may outlive npm.
    for (let level = childrenOf(npm.pid!); level.length > 0; level = level.flatMap(childrenOf)) below.push(...level)
    t.ok(below.length > 0, `npm runs the proxy below it (pids ${below.join(', ')})`)

    upstream.mode = 'slow'
    upstream.delayMs = 400
    const inFlight = fetch(`${url}/slow`).then((r) => r.text())
    await new Promise((r) => setTimeout(r, 100))
    const exited = once(npm, 'exit') as Promise<[number | null, string | null]>
    npm.kill(signal)
    t.equal(await inFlight, 'legacy GET /slow', `a request in flight at ${signal} is finished`)
    const [code] = await Promise.race([exited, new Promise<[string]>((r) => setTimeout(() => r(['npm still running 10 s later']), 10_000))])
    t.equal(code, 0, 'npm exits 0: it waited for node, which drained and exited 0')
    t.match(output, /"msg":"shut down"/, 'node went through its shutdown')
    await new Promise((r) => setTimeout(r, 200))
    t.same(below.filter(alive), [], 'no process npm started is left running')
  })
}
