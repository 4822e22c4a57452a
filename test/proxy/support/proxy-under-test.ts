// Starts a proxy for a test with the test environment's config plus overrides, and stops it after.
import type { Test } from 'tap'
import { loadConfig } from '../../../config/load.ts'
import { startProxy, type ProxyDeps, type RunningProxy } from '../../../proxy/app.ts'

export async function proxyFor(t: Test, overrides: Record<string, unknown>, deps: ProxyDeps = {}): Promise<RunningProxy> {
  const config = loadConfig({ env: { FASTPATH_ENV: 'test' }, overrides })
  const proxy = await startProxy(config, { reloadConfig: () => loadConfig({ env: { FASTPATH_ENV: 'test' }, overrides }), ...deps })
  t.teardown(() => proxy.shutdown())
  return proxy
}
