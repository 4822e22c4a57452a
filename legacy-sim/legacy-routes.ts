// The legacy's endpoint table (API.md §3-§9): templates, the versions each controller declares, methods and whether they need a login.
import { sendEmpty, sendJson } from './http-responses.ts'
import type { RouteHandler } from './request-context.ts'
import { template, type EndpointMethod, type RouteTemplate } from './route-table.ts'
import { answerNewPrescriptions, answerPharmacyPrescriptions } from './v2-rezept-list.ts'

const V2 = ['2.0'] as const
const V1 = ['1.0'] as const

function protectedBy(handler: RouteHandler): EndpointMethod {
  return { handler, requiresAuth: true }
}

function anonymous(handler: RouteHandler): EndpointMethod {
  return { handler, requiresAuth: false }
}

const answerHealthArzsw: RouteHandler = async ({ res }) => sendJson(res, 200, '{"status":"ok"}')
// API.md §9: the health-check endpoints fail in the legacy (a broken dependency); they need no login.
const answerBrokenHealthCheck: RouteHandler = async ({ res }) => sendEmpty(res, 500)

// Health checks are mapped for every method and are not versioned.
const ANY_METHOD = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']
function anyMethod(handler: RouteHandler): Record<string, EndpointMethod> {
  return Object.fromEntries(ANY_METHOD.map((m) => [m, anonymous(handler)]))
}

export const LEGACY_ROUTES: readonly RouteTemplate[] = Object.freeze([
  template('v{version}/rezept', V2, { GET: protectedBy(answerNewPrescriptions) }),
  template('v{version}/rezept/status', V2, { GET: protectedBy(answerPharmacyPrescriptions) }),
  template('api/health/arzsw', V2, { GET: anonymous(answerHealthArzsw) }),
  template('health/live', null, anyMethod(answerBrokenHealthCheck)),
  template('health/ready', null, anyMethod(answerBrokenHealthCheck)),
  template('health/system', null, anyMethod(answerBrokenHealthCheck)),
])
