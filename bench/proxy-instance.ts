// One proxy for the benchmark, wired exactly as `npm start` wires it (proxy/main.ts): configuration from
// the production file plus the overrides the harness passes as JSON in BENCH_PROXY_OVERRIDES (flags, the
// fastPath.cache section, ports). Prints `listening <url>` once it serves; SIGTERM drains and exits.
import { loadConfig } from '../config/load.ts'
import { startProxy } from '../proxy/app.ts'
import { createLogger } from '../proxy/event-log.ts'
import { EventBus } from '../core/events.ts'
import { proxyDepsOf, wireFastPaths } from '../proxy/fast-path-wiring.ts'

const overrides = JSON.parse(process.env.BENCH_PROXY_OVERRIDES ?? '{}') as Record<string, unknown>
// Production refuses Redis without a key secret of the operator's; the benchmark brings its own (keyed
// names cost the same whatever the secret), unless the environment names one.
const BENCH_REDIS_KEY_SECRET = 'arzti-fastpath-benchmark-only-redis-key-secret'
const config = loadConfig({ env: { REDIS_KEY_SECRET: BENCH_REDIS_KEY_SECRET, ...process.env, FASTPATH_ENV: 'production' }, overrides })
const events = new EventBus()
const fast = await wireFastPaths(config, events)
const proxy = await startProxy(config, {
  ...proxyDepsOf(fast), events, logger: createLogger(config.logLevel),
})
console.log(`listening ${proxy.url}`)
process.on('SIGTERM', () => {
  // Said out loud: a harness that did not send it can then tell a kill from outside from a crash.
  console.error(`SIGTERM received (pid ${process.pid}): draining and exiting`)
  void proxy.shutdown().then(() => fast.close()).then(() => process.exit(0))
})
