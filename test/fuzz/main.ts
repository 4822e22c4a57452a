// `npm run fuzz [-- --count N --seed S]`: the long fuzz run (default 100,000 requests) against a seeded
// installation with the legacy simulator behind a proxy whose fast paths are on. Prints the report as
// JSON and exits 1 on any finding.
import { parseArgs } from 'node:util'
import { loadConfig } from '../../config/load.ts'
import { startInstance } from '../../proxy/instance.ts'
import { startLegacySim } from '../../legacy-sim/server.ts'
import { seed } from '../../sql/seed/seed.ts'
import { databaseUrl, pgAdminUrl, redisUrl } from '../../dev/services.ts'
import { runFuzz } from './fuzz-engine.ts'

const { values } = parseArgs({ options: { count: { type: 'string', default: '100000' }, seed: { type: 'string', default: '1' } } })
const count = Number(values.count)
const fuzzSeed = Number(values.seed)
if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(fuzzSeed)) {
  console.error('usage: npm run fuzz -- [--count N] [--seed S]')
  process.exit(2)
}
const basic = (login: string, password: string) => `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`
const report = await seed({ adminUrl: pgAdminUrl(), prefix: 'fuzz_', rows: 300, kleinRows: 400 })
const arzswUrl = databaseUrl(report.databases.arzsw)
const sim = await startLegacySim({ arzswUrl, port: 0 })
const config = loadConfig({ env: { FASTPATH_ENV: 'test' }, overrides: { legacyUrl: sim.url, arzswUrl, redisUrl: redisUrl(), redisKeyPrefix: 'fuzz:', flags: 'v2.rezept.list=on,v2.rezept.pharmacy=on' } })
const instance = await startInstance(config)
const proxy = instance.proxy
const rssBefore = process.memoryUsage().rss
const run = await runFuzz({
  proxyPort: Number(new URL(proxy.url).port), legacyPort: sim.port, seed: fuzzSeed, count,
  credentials: [basic('arz-klein', 'klein-Geheim2'), basic('arz-klein', 'falsch'), basic('niemand', 'x'), basic('arz-leer', 'leer-Geheim3')],
})
const summary = { date: new Date().toISOString(), seed: fuzzSeed, ...run, rssBeforeMiB: Math.round(rssBefore / 2 ** 20), rssAfterMiB: Math.round(process.memoryUsage().rss / 2 ** 20) }
console.log(JSON.stringify(summary, null, 2))
await instance.close()
await sim.close()
process.exit(run.findings.length === 0 ? 0 : 1)
