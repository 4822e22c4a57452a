// `npm test`: makes sure a PostgreSQL is there (the one at PG_ADMIN_URL, or an embedded one started
// for this run), notes whether Redis is, runs tap, enforces the coverage floor and ends with the line
// `N passed, N failed` counted from tap's saved results.
import { spawn } from 'node:child_process'
import { readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Parser } from 'tap-parser'
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../proxy/demo/embedded-postgres.ts'
import { checkCoverage } from './support/coverage-gate.ts'
import { pgAdminUrl, postgresReachable, redisReachable, redisUrl } from './support/services.ts'

const RESULTS_DIR = '.tap/test-results'

async function main(): Promise<number> {
  let embedded: EmbeddedPostgresHandle | undefined
  const env: NodeJS.ProcessEnv = { ...process.env }
  if (await postgresReachable(pgAdminUrl())) {
    console.log(`# PostgreSQL: ${redact(pgAdminUrl())}`)
  } else {
    console.log(`# PostgreSQL: none reachable at ${redact(pgAdminUrl())}; starting an embedded one for this run`)
    embedded = await startEmbeddedPostgres({ settings: { wal_level: 'logical', max_connections: '300' } })
    env.PG_ADMIN_URL = embedded.adminUrl
    env.FASTPATH_TEST_EMBEDDED_PG = '1'
  }
  if (await redisReachable(redisUrl())) {
    console.log(`# Redis: ${redact(redisUrl())}`)
  } else {
    console.log(`# Redis: none reachable at ${redact(redisUrl())}; tests that need it are skipped and say so`)
    env.FASTPATH_TEST_REDIS = 'unavailable'
  }

  await rm(RESULTS_DIR, { recursive: true, force: true })
  const tapExit = await run('tap', process.argv.slice(2), env)
  if (embedded) await embedded.stop()

  const counts = await countResults(RESULTS_DIR)
  // tap failing with nothing failed in the saved results means a file crashed before reporting.
  if (tapExit !== 0 && counts.fail === 0) counts.fail = 1
  const coverageOk = process.argv.length > 2 ? true : await checkCoverage()
  console.log(`${counts.pass} passed, ${counts.fail} failed${counts.skip ? `, ${counts.skip} skipped` : ''}`)
  return tapExit === 0 && counts.fail === 0 && coverageOk ? 0 : 1
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', env })
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}

async function countResults(dir: string): Promise<{ pass: number; fail: number; skip: number }> {
  const totals = { pass: 0, fail: 0, skip: 0 }
  let files: string[] = []
  try {
    files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.tap'))
  } catch {
    return totals
  }
  for (const file of files) {
    const text = await readFile(join(dir, file), 'utf8')
    await new Promise<void>((resolve) => {
      const parser = new Parser({ flat: true }, (results) => {
        totals.pass += results.pass - results.skip - results.todo
        totals.fail += results.fail
        totals.skip += results.skip + results.todo
        // A file that bailed out or crashed without a plan counts as one failure.
        if (!results.ok && results.fail === 0) totals.fail += 1
        resolve()
      })
      parser.end(text)
    })
  }
  return totals
}

function redact(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '(unparsable URL)'
  }
}

process.exitCode = await main()
