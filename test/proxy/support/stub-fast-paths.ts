// Small fast paths with a fixed behaviour (answer fixed bytes, defer, throw, hang) for testing the
// proxy's routing: the thing under test is the proxy, not the fast path.
import type { FastPath, FastPathOutcome, FastPathRequest, RouteId } from '../../../routes/contract.ts'

export const STUB_BODY = Buffer.from('{"stub":true}')

export interface StubFastPath extends FastPath {
  calls: number
  lastSignal: AbortSignal | undefined
  lastRequest: FastPathRequest | undefined
}

export function stubFastPath(routeId: RouteId, behaviour: 'answer' | 'cache' | 'defer' | 'throw' | 'hang'): StubFastPath {
  const stub: StubFastPath = {
    routeId,
    calls: 0,
    lastSignal: undefined,
    lastRequest: undefined,
    handle(request, signal): Promise<FastPathOutcome> {
      stub.calls++
      stub.lastSignal = signal
      stub.lastRequest = request
      switch (behaviour) {
        case 'answer':
        case 'cache':
          return Promise.resolve({ kind: 'answer', status: 200, contentType: 'application/json; charset=utf-8', body: STUB_BODY, servedBy: behaviour === 'answer' ? 'fast' : 'cache' })
        case 'defer':
          return Promise.resolve({ kind: 'defer', reason: 'query' })
        case 'throw':
          return Promise.reject(new Error('stub fast path broke its contract'))
        case 'hang':
          return new Promise((resolve) => signal.addEventListener('abort', () => resolve({ kind: 'defer', reason: 'shed' }), { once: true }))
      }
    },
  }
  return stub
}
