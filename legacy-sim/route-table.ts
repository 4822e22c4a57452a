// Matches a request to the legacy's endpoints as ASP.NET Core routing and Asp.Versioning do (docs/legacy-contract.md §3).
import type { RouteHandler } from './request-context.ts'

type Segment = { literal: string } | { version: true } | { int32: true } | { int64: true }

export interface EndpointMethod {
  handler: RouteHandler
  /** Protected by [Authorize] (docs/legacy-contract.md §2); false for [AllowAnonymous] and the health checks. */
  requiresAuth: boolean
}

export interface RouteTemplate {
  segments: Segment[]
  /** The API versions the controller declares ("2.0" when it declares none); null: not versioned. */
  versions: readonly string[] | null
  methods: ReadonlyMap<string, EndpointMethod>
}

export type RouteMatch =
  | { kind: 'endpoint'; method: EndpointMethod; pathParameters: string[] }
  | { kind: 'not-found' }
  | { kind: 'method-not-allowed'; allow: string }
  /** All three answer the same empty 400 (docs/legacy-contract.md §3); the kind says which rule refused. */
  | { kind: 'version-problem'; problem: 'unsupported' | 'ambiguous' | 'invalid' }

/** `"api/v{version}/prescriptions/new"` → segments; `{int}` / `{long}` are constrained parameters. */
export function template(path: string, versions: readonly string[] | null, methods: Record<string, EndpointMethod>): RouteTemplate {
  const segments = path.split('/').map((part): Segment => {
    if (part === 'v{version}') return { version: true }
    if (part === '{int}') return { int32: true }
    if (part === '{long}') return { int64: true }
    return { literal: part.toLowerCase() }
  })
  return { segments, versions, methods: new Map(Object.entries(methods)) }
}

const VERSION_TEXT = /^(\d+)(?:\.(\d+))?$/

/** "2", "2.0" → "2.0"; null when it is no API version. */
export function canonicalVersion(text: string): string | null {
  const m = VERSION_TEXT.exec(text.trim())
  if (m === null) return null
  return `${Number(m[1])}.${Number(m[2] ?? '0')}`
}

const INTEGER = /^[+-]?\d+$/

function fitsInteger(text: string, bits: 32 | 64): boolean {
  if (!INTEGER.test(text)) return false
  const value = BigInt(text)
  return bits === 32 ? value >= -(2n ** 31n) && value < 2n ** 31n : value >= -(2n ** 63n) && value < 2n ** 63n
}

/** Path segments as routing compares them: decoded, trailing slash ignored. */
export function pathSegments(rawPath: string): string[] | null {
  let path: string
  try {
    path = decodeURIComponent(rawPath)
  } catch {
    return null
  }
  if (path.endsWith('/')) path = path.slice(0, -1)
  if (path.startsWith('/')) path = path.slice(1)
  return path.split('/')
}

function matchTemplate(route: RouteTemplate, segments: string[]): { urlVersion: string | null; parameters: string[] } | null {
  if (route.segments.length !== segments.length) return null
  let urlVersion: string | null = null
  const parameters: string[] = []
  for (let i = 0; i < segments.length; i++) {
    const want = route.segments[i]!
    const got = segments[i]!
    if ('literal' in want) {
      if (got.toLowerCase() !== want.literal) return null
    } else if ('version' in want) {
      // The apiVersion route constraint: "v" then something that parses as a version.
      if (got[0] !== 'v' && got[0] !== 'V') return null
      urlVersion = canonicalVersion(got.slice(1))
      if (urlVersion === null) return null
    } else {
      if (!fitsInteger(got, 'int32' in want ? 32 : 64)) return null
      parameters.push(got)
    }
  }
  return { urlVersion, parameters }
}

const DEFAULT_VERSION = '2.0'

export function matchRoute(routes: readonly RouteTemplate[], method: string, rawPath: string, versionHeader: string | undefined): RouteMatch {
  const segments = pathSegments(rawPath)
  if (segments === null) return { kind: 'not-found' }
  for (const route of routes) {
    const m = matchTemplate(route, segments)
    if (m === null) continue
    if (route.versions !== null) {
      let requested = m.urlVersion
      if (versionHeader !== undefined && versionHeader !== '') {
        const fromHeader = canonicalVersion(versionHeader)
        if (fromHeader === null) return { kind: 'version-problem', problem: 'invalid' }
        if (requested !== null && requested !== fromHeader) return { kind: 'version-problem', problem: 'ambiguous' }
        requested = fromHeader
      }
      if (!route.versions.includes(requested ?? DEFAULT_VERSION)) return { kind: 'version-problem', problem: 'unsupported' }
    }
    const endpoint = route.methods.get(method)
    if (endpoint === undefined) return { kind: 'method-not-allowed', allow: [...route.methods.keys()].join(', ') }
    return { kind: 'endpoint', method: endpoint, pathParameters: m.parameters }
  }
  return { kind: 'not-found' }
}
