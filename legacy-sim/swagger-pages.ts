// The Swagger middleware the legacy runs in Development only (docs/legacy-contract.md §9): its two documents and the UI page, in outline.
import type { IncomingMessage, ServerResponse } from 'node:http'

// Outline documents: the paths and methods the legacy publishes; schemas are left out on purpose.
const V1_DOC = JSON.stringify({
  openapi: '3.0.1', info: { title: 'ArzTi3 Prescription Mediation API', description: 'Legacy API for ARZ prescription insurance mediation system - Will be deprecated', version: 'v1' },
  paths: {
    '/api/v1/Prescriptions/new': { get: { tags: ['Prescriptions'], deprecated: true } },
    '/api/v1/Prescriptions/mark-as-read': { post: { tags: ['Prescriptions'], deprecated: true } },
    '/api/v1/Prescriptions/set-abgerechnet': { post: { tags: ['Prescriptions'], deprecated: true } },
  },
})
const V2_DOC = JSON.stringify({
  openapi: '3.0.1', info: { title: 'ARZ_TI 2.0 API', description: 'High-performance ARZ prescription mediation API with enhanced features and bulk operations', version: 'v2' },
  paths: {
    '/v2/rezept': { get: { tags: ['PrescriptionsV2'] } },
    '/v2/rezept/status': { get: { tags: ['PrescriptionsV2'] }, patch: { tags: ['PrescriptionsV2'] } },
    '/v2/rezept/statusuuid': { patch: { tags: ['PrescriptionsV2'] } },
    '/api/Apotheken': { get: { tags: ['Apotheken'] }, post: { tags: ['Apotheken'] } },
    '/api/Apotheken/{id}': { get: { tags: ['Apotheken'] }, put: { tags: ['Apotheken'] }, delete: { tags: ['Apotheken'] } },
    '/api/Apotheken/by-ik/{ikNr}': { get: { tags: ['Apotheken'] } },
    '/api/Health/arzsw': { get: { tags: ['Health'] } },
  },
})
const UI_PAGE = '<!DOCTYPE html><html><head><title>Swagger UI</title></head><body><div id="swagger-ui"></div>' +
  '<p>ArzTi3 API (legacy simulator): <a href="v2/swagger.json">v2</a>, <a href="v1/swagger.json">v1</a></p></body></html>'

/** Answers a /swagger request and returns true, or returns false when the path is not Swagger's. */
export function answerSwagger(req: IncomingMessage, res: ServerResponse, lowerPath: string): boolean {
  const send = (type: string, body: string): true => {
    res.writeHead(200, { 'Content-Type': type, 'Server': 'Kestrel' })
    res.end(body)
    return true
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return false
  if (lowerPath === '/swagger/v1/swagger.json') return send('application/json;charset=utf-8', V1_DOC)
  if (lowerPath === '/swagger/v2/swagger.json') return send('application/json;charset=utf-8', V2_DOC)
  if (lowerPath === '/swagger/index.html') return send('text/html;charset=utf-8', UI_PAGE)
  if (lowerPath === '/swagger' || lowerPath === '/swagger/') {
    res.writeHead(301, { Location: 'swagger/index.html', 'Server': 'Kestrel', 'Content-Length': '0' })
    res.end()
    return true
  }
  return false
}
