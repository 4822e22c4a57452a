// `npm run legacy-sim` as a process: starts on the given port, answers, stops cleanly on SIGTERM, refuses bad options.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import t from 'tap'

const MAIN = new URL('../../legacy-sim/main.ts', import.meta.url).pathname

t.test('the simulator process starts, answers Health, and exits 0 on SIGTERM', async (t) => {
  const child = spawn(process.execPath, [MAIN, '--port', '0'], { env: { ...process.env, LEGACY_ENVIRONMENT: 'Test' }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let out = ''
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) resolve(m[1]!)
    })
    child.on('exit', () => reject(new Error(`exited early: ${out}`)))
  })
  t.match(out, /stand-in for ArzTi3Server.*maxPageSize 500, environment Test/)
  const health = await fetch(`${url}/api/Health/arzsw`)
  t.equal(await health.text(), '{"status":"ok"}')
  child.kill('SIGTERM')
  const [code] = await once(child, 'exit')
  t.equal(code, 0)
})

t.test('a bad option stops the process with exit code 2 and names the option', async (t) => {
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, LEGACY_MAX_PAGE_SIZE: 'lots' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString() })
  const [code] = await once(child, 'exit')
  t.equal(code, 2)
  t.match(err, /LEGACY_MAX_PAGE_SIZE must be a positive integer, got 'lots'/)
})
