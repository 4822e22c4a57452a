// What `npm run compare` runs against without --proxy: the embedded demo `npm start` runs (a
// PostgreSQL, seeded small, the legacy simulator) and a proxy started as `npm start` starts it (proxy/instance.ts).
import { loadConfig } from '../../config/load.ts'
import { startDemo } from '../../proxy/demo/start-demo.ts'
import { startInstance } from '../../proxy/instance.ts'
import { SEED_USERS } from '../../sql/seed/seed.ts'

export interface DemoTarget {
  readonly proxyUrl: string
  readonly adminUrl: string
  readonly adminToken: string | undefined
  /** The seeded users of the two tenants with prescriptions, as login:password. */
  readonly users: readonly string[]
  close(): Promise<void>
}

export async function startDemoTarget(log: (line: string) => void): Promise<DemoTarget> {
  const base = loadConfig()
  const demo = await startDemo({ pgAdminUrl: process.env.PG_ADMIN_URL, prefix: base.demo.prefix, rows: base.demo.rows, maxPageSize: base.maxPageSize, environment: base.environment, log })
  try {
    // Any free ports, so a running `npm start` is no obstacle; quiet logs, the report is the output.
    // The demo's user is the probe user: the proxy learns the simulator's settings as npm start does.
    const probe = base.legacyProbe.login === undefined ? { 'legacyProbe.login': demo.user.login, 'legacyProbe.password': demo.user.password } : {}
    // Audit lines (the run's own flag changes) would land in the progress output on stderr: off, unless routed elsewhere.
    const audit = base.audit.destination === 'stderr' ? { 'audit.destination': 'off' } : {}
    const config = loadConfig({ overrides: { legacyUrl: demo.legacyUrl, arzswUrl: base.arzswUrl ?? demo.arzswUrl, port: 0, 'admin.port': 0, logLevel: 'warn', ...probe, ...audit } })
    const instance = await startInstance(config)
    const proxy = instance.proxy
    return {
      proxyUrl: proxy.url,
      adminUrl: proxy.adminUrl,
      adminToken: config.admin.token,
      users: SEED_USERS.filter((u) => u.tenant !== 'leer').map((u) => `${u.login}:${u.password}`),
      async close() {
        await instance.close()
        await demo.close()
      },
    }
  } catch (error) {
    await demo.close()
    throw error
  }
}
