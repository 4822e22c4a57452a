// `npm test`: makes sure a PostgreSQL is there (the one at PG_ADMIN_URL, or an embedded one started
// for this run), notes whether Redis is, runs tap, enforces the coverage floor and ends with the line
// `N passed, N failed` counted from tap's saved results.
import { spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Parser } from 'tap-parser'
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../proxy/demo/embedded-postgres.ts'
import { checkCoverage } from './support/coverage-gate.ts'
import { pgAdminUrl, postgresReachable, redisReachable, redisUrl } from '../dev/services.ts'

async function main(): Promise<number> {
  let embedded: EmbeddedPostgresHandle | undefined
  const env: NodeJS.ProcessEnv = { ...process.env }
  if (await postgresReachable(pgAdminUrl())) {
    console.log(`# PostgreSQL: ${redact(pgAdminUrl())}`)
  } else {
    console.log(`# PostgreSQL: none reachable at ${redact(pgAdminUrl())}; starting an embedded one for this run`)
    try {
      embedded = await startEmbeddedPostgres({ settings: { wal_level: 'logical', max_connections: '300' } })
    } catch (error) {
      console.log(`# failed: the embedded PostgreSQL did not start: ${(error as Error).message}`)
      console.log('0 passed, 1 failed')
      return 1
    }
    env.PG_ADMIN_URL = embedded.adminUrl
    env.FASTPATH_TEST_EMBEDDED_PG = '1'
  }
  if (await redisReachable(redisUrl())) {
    console.log(`# Redis: ${redact(redisUrl())}`)
  } else {
    console.log(`# Redis: none reachable at ${redact(redisUrl())}; tests that need it are skipped and say so`)
    env.FASTPATH_TEST_REDIS = 'unavailable'
  }

  // The raw TAP of this run goes to a file of its own, so runs side by side never mix their counts.
  const resultsDir = await mkdtemp(join(tmpdir(), 'arzti-fastpath-tap-'))
  const testArgs = await expandFolders(process.argv.slice(2))
  const tapExit = await run('tap', ['--output-dir', resultsDir, ...testArgs], env)
  if (embedded) await embedded.stop()

  const counts = await countResults(resultsDir)
  await rm(resultsDir, { recursive: true, force: true })
  // tap failing with nothing failed in the saved results means a file crashed before reporting.
  if (tapExit !== 0 && counts.fail === 0) counts.fail = 1
  const coverageOk = process.argv.length > 2 ? true : await checkCoverage()
  // CI shows only the tail of a run: name every failure there, next to the summary line.
  for (const failure of counts.failures) console.log(`# failed: ${failure}`)
  console.log(`${counts.pass} passed, ${counts.fail} failed${counts.skip ? `, ${counts.skip} skipped` : ''}`)
  return tapExit === 0 && counts.fail === 0 && coverageOk ? 0 : 1
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', env })
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
  })
}

interface Counts { pass: number; fail: number; skip: number; failures: string[] }

/** Every leaf assertion of every file, from the raw TAP tap saved per test file. */
async function countResults(dir: string): Promise<Counts> {
  const totals: Counts = { pass: 0, fail: 0, skip: 0, failures: [] }
  const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.tap'))
  for (const file of files) {
    const text = await readFile(join(dir, file), 'utf8')
    // A file that crashed before its first line of TAP (an error at the top level) leaves nothing:
    // tap shows it as `1..0 # no tests found`, which would otherwise count as a skip.
    if (text.trim() === '') {
      totals.fail += 1
      totals.failures.push(`${file.replace(/\.tap$/, '')} (ended without any TAP: a crash before its first test; run it alone to see why)`)
      continue
    }
    await new Promise<void>((resolve) => {
      const root = new Parser()
      const testFile = file.replace(/\.tap$/, '')
      countLeaves(root, totals, testFile)
      root.on('complete', (results) => {
        if (!results.ok && results.fail === 0) {
          totals.fail += 1
          totals.failures.push(`${testFile} (ended without a failing assertion: a crash or a bad plan)`)
        }
        resolve()
      })
      root.end(text)
    })
  }
  return totals
}

/**
 * A subtest shows up twice in TAP: as its own parser's assertions and as one summary line in its
 * parent. Count the assertions of every level and take one summary line off per child, so only leaf
 * assertions remain; a child that failed with no failing assertion (a crash, a bad plan) is one failure.
 */
function countLeaves(parser: Parser, totals: Counts, where: string): void {
  // A failed subtest is listed by its failing assertions; its summary line in the parent only when
  // it has none (a crash, a bad plan).
  const failedAsserts: string[] = []
  const childrenWithFailures = new Set<string>()
  parser.on('assert', (a) => {
    if (a.skip || a.todo) totals.skip += 1
    else if (a.ok) totals.pass += 1
    else {
      totals.fail += 1
      failedAsserts.push(a.name || `assertion ${a.id}`)
    }
  })
  parser.on('child', (child: Parser) => {
    countLeaves(child, totals, child.name ? `${where} > ${child.name}` : where)
    child.on('complete', (results) => {
      if (results.ok) totals.pass -= 1
      else if (results.fail > 0) {
        totals.fail -= 1
        childrenWithFailures.add(child.name)
      }
    })
  })
  parser.on('complete', () => {
    for (const name of failedAsserts) {
      if (!childrenWithFailures.has(name)) totals.failures.push(`${where} > ${name}`)
    }
  })
}

/** tap takes files, not folders: `node test/run.ts test/seed` runs the test files below test/seed. */
async function expandFolders(args: string[]): Promise<string[]> {
  const expanded: string[] = []
  for (const arg of args) {
    const isFolder = !arg.startsWith('-') && (await stat(arg).then((s) => s.isDirectory(), () => false))
    if (!isFolder) {
      expanded.push(arg)
      continue
    }
    const entries = await readdir(arg, { recursive: true })
    expanded.push(...entries.filter((e) => e.endsWith('.test.ts')).sort().map((e) => join(arg, e)))
  }
  return expanded
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
