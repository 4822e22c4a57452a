// The legacy's endpoint table (docs/legacy-contract.md §3-§9): templates, the versions each controller declares, methods and whether they need a login.
import { sendEmpty, sendJson } from './http-responses.ts'
import type { RouteHandler } from './request-context.ts'
import { template, type EndpointMethod, type RouteTemplate } from './route-table.ts'
import { answerApothekeById, answerApothekeByIk, answerApothekeCreate, answerApothekeDelete, answerApothekenList, answerApothekeUpdate } from './apotheken.ts'
import { answerMarkAsRead, answerSetAbgerechnet, answerV1NewPrescriptions } from './v1-prescriptions.ts'
import { answerNewPrescriptions, answerPharmacyPrescriptions } from './v2-rezept-list.ts'
import { answerStatusByUuid } from './v2-status-by-uuid.ts'
import { answerStatusUpdate } from './v2-status-update.ts'

const V2 = ['2.0'] as const
const V1 = ['1.0'] as const

function protectedBy(handler: RouteHandler): EndpointMethod {
  return { handler, requiresAuth: true }
}

function anonymous(handler: RouteHandler): EndpointMethod {
  return { handler, requiresAuth: false }
}

const answerHealthArzsw: RouteHandler = async ({ res }) => sendJson(res, 200, '{"status":"ok"}')
// docs/legacy-contract.md §9: the health-check endpoints fail in the legacy (a broken dependency); they need no login.
const answerBrokenHealthCheck: RouteHandler = async ({ res }) => sendEmpty(res, 500)

// Health checks are mapped for every method and are not versioned.
const ANY_METHOD = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']
function anyMethod(handler: RouteHandler): Record<string, EndpointMethod> {
  return Object.fromEntries(ANY_METHOD.map((m) => [m, anonymous(handler)]))
}

export const LEGACY_ROUTES: readonly RouteTemplate[] = Object.freeze([
  template('v{version}/rezept', V2, { GET: protectedBy(answerNewPrescriptions) }),
  template('v{version}/rezept/status', V2, { GET: protectedBy(answerPharmacyPrescriptions), PATCH: protectedBy(answerStatusUpdate) }),
  template('v{version}/rezept/statusuuid', V2, { PATCH: protectedBy(answerStatusByUuid) }),
  // The v1 controller answers under both templates; without a version segment only with X-API-Version: 1.0.
  ...['api/prescriptions', 'api/v{version}/prescriptions'].flatMap((base) => [
    template(`${base}/new`, V1, { GET: protectedBy(answerV1NewPrescriptions) }),
    template(`${base}/mark-as-read`, V1, { POST: protectedBy(answerMarkAsRead) }),
    template(`${base}/set-abgerechnet`, V1, { POST: protectedBy(answerSetAbgerechnet) }),
  ]),
  // No [ApiVersion] on these controllers: they carry the default version 2.0.
  template('api/apotheken', V2, { GET: protectedBy(answerApothekenList), POST: protectedBy(answerApothekeCreate) }),
  template('api/apotheken/{int}', V2, { GET: protectedBy(answerApothekeById), PUT: protectedBy(answerApothekeUpdate), DELETE: protectedBy(answerApothekeDelete) }),
  template('api/apotheken/by-ik/{long}', V2, { GET: protectedBy(answerApothekeByIk) }),
  template('api/health/arzsw', V2, { GET: anonymous(answerHealthArzsw) }),
  template('health/live', null, anyMethod(answerBrokenHealthCheck)),
  template('health/ready', null, anyMethod(answerBrokenHealthCheck)),
  template('health/system', null, anyMethod(answerBrokenHealthCheck)),
])
