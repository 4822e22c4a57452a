// One proxy for the benchmark, started as `npm start` starts it (proxy/instance.ts): configuration from
// the production file plus the overrides the harness passes as JSON in BENCH_PROXY_OVERRIDES (flags, the
// fastPath.cache section, ports). Prints `listening <url>` once it serves; SIGTERM drains and exits.
import { loadConfig } from '../config/load.ts'
import { startInstance } from '../proxy/instance.ts'

const overrides = JSON.parse(process.env.BENCH_PROXY_OVERRIDES ?? '{}') as Record<string, unknown>
// Production refuses Redis without a key secret of the operator's; the benchmark brings its own (keyed
// names cost the same whatever the secret), unless the environment names one.
const BENCH_REDIS_KEY_SECRET = 'arzti-fastpath-benchmark-only-redis-key-secret'
const config = loadConfig({ env: { REDIS_KEY_SECRET: BENCH_REDIS_KEY_SECRET, ...process.env, FASTPATH_ENV: 'production' }, overrides })
const instance = await startInstance(config)
const proxy = instance.proxy
console.log(`listening ${proxy.url}`)
process.on('SIGTERM', () => {
  // Said out loud: a harness that did not send it can then tell a kill from outside from a crash.
  console.error(`SIGTERM received (pid ${process.pid}): draining and exiting`)
  void instance.close().then(() => process.exit(0))
})
