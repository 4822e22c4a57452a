// After a write the legacy answered (routes/prescription-writes.ts): the caller's tenant's cached
// answers go, here and on every instance, so a client that wrote and then reads sees its write.
import type { ResponseCache } from '../../cache/response-cache.ts'
import type { Callers } from './caller.ts'

/**
 * Never rejects. `status` undefined: the write failed on its way to or from the legacy (it may
 * have committed). The legacy's answer waits for this (bounded by the Redis command timeout).
 */
export async function invalidateAfterWrite(cache: ResponseCache, callers: Callers, authorization: string | undefined, status: number | undefined): Promise<void> {
  // Only a write the legacy carried out (2xx), or one whose answer was lost on its way (it may have
  // committed). A 4xx or 5xx wrote nothing (docs/legacy-contract.md §7, §8: a failed save rolls back).
  if (status !== undefined && (status < 200 || status > 299)) return
  try {
    const caller = await callers.tenantOf(authorization)
    if (caller.ok) return await cache.invalidateTenant(caller.database.identity)
  } catch {
    // Whatever went wrong, the tenant is unknown.
  }
  // The legacy accepted a caller we cannot place (our check failed or lags the legacy's): every
  // tenant's entries go. Without an answer and without a verified caller nothing goes, or anyone
  // could void every tenant by cutting an unauthenticated write off (issue 16 point 4).
  if (status !== undefined) await cache.invalidateEverything()
}
