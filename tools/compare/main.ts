// `npm run compare`: replays a request list through a proxy's legacy and fast paths and writes the
// report to the terminal, report.html (self-contained) and report.json. Exit 1 when answers differ or
// the proxy demoted a route during the run.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseCompareArgs, USAGE, UsageError, type CompareArgs } from './cli-args.ts'
import { runCompare } from './compare-run.ts'
import { startDemoTarget, type DemoTarget } from './demo-target.ts'
import { htmlReport } from './html-report.ts'
import { replayAgent } from './replay.ts'
import { pollingMix, readRequestFile, type ReplayRequest } from './request-list.ts'
import { summarize } from './summary.ts'
import { terminalReport } from './terminal-table.ts'

async function main(): Promise<number> {
  let args: CompareArgs
  try {
    args = parseCompareArgs(process.argv.slice(2), process.env)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    console.error(`${error.message}\n\n${USAGE}`)
    return 2
  }
  if (args.help) {
    console.log(USAGE)
    return 0
  }
  const log = (line: string) => console.error(line)
  let demo: DemoTarget | undefined
  try {
    if (args.proxy === undefined) {
      log('no --proxy: starting the embedded demo')
      demo = await startDemoTarget(log)
    }
    const users = args.users.length > 0 ? args.users : (demo?.users ?? [])
    let requests: ReplayRequest[]
    if (args.requests !== undefined) requests = readRequestFile(args.requests, users[0])
    else if (users.length === 0) throw new UsageError('--user login:password is needed for the polling mix against a running proxy')
    else requests = pollingMix(users)

    const result = await runCompare({
      proxyUrl: demo?.proxyUrl ?? args.proxy!,
      ...(demo ? { adminUrl: demo.adminUrl } : args.admin !== undefined ? { adminUrl: args.admin } : {}),
      ...((demo?.adminToken ?? args.adminToken) ? { adminToken: (demo?.adminToken ?? args.adminToken)! } : {}),
      requests,
      rounds: args.rounds,
      cold: args.cold,
      log,
    })
    const routes = summarize(result)
    console.log(terminalReport(result, routes))
    const out = resolve(args.out)
    mkdirSync(out, { recursive: true })
    writeFileSync(join(out, 'report.html'), htmlReport(result, routes, args.legacyName ?? (demo ? 'the legacy simulator' : 'the proxy\'s upstream')))
    // Latencies and outcomes only: no bodies (patient data) and no passwords.
    writeFileSync(join(out, 'report.json'), `${JSON.stringify({ ...result, requests: result.requests.map(({ user: _user, ...rest }) => rest), routes: routes.map(({ paths, ...rest }) => ({ ...rest, paths: Object.fromEntries(Object.entries(paths).map(([k, v]) => [k, { count: v.count, p50: v.p50, p95: v.p95, p99: v.p99, max: v.max }])) })), samples: undefined }, null, 2)}\n`)
    console.log(`\nreport: ${join(out, 'report.html')}`)
    return result.mismatches.length === 0 && (result.demotions ?? []).length === 0 ? 0 : 1
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${USAGE}`)
      return 2
    }
    throw error
  } finally {
    await replayAgent.close()
    await demo?.close()
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error)
    process.exit(3)
  },
)
