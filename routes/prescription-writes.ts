// The requests passed to the legacy that can change prescription rows (docs/legacy-contract.md §7, §8): PATCH
// /v2/rezept/status and the v1 POSTs mark-as-read and set-abgerechnet, in every spelling the
// legacy routes (§3: any case, `v2` or `v2.0`, one trailing slash, %-escapes decoded). Only these
// void the answer cache; any other request, whatever its method, leaves it alone.

const V2_STATUS = ['rezept', 'status']
const V1_WRITES = new Set(['mark-as-read', 'set-abgerechnet'])
/** A version segment as Asp.Versioning reads it: `v2`, `v2.0`, `V02`… (legacy-sim canonicalVersion). */
const VERSION = /^v(\d+)(?:\.(\d+))?$/i

export function writesPrescriptions(method: string | undefined, rawUrl: string | undefined): boolean {
  if ((method !== 'PATCH' && method !== 'POST') || rawUrl === undefined) return false
  const q = rawUrl.indexOf('?')
  let path = q < 0 ? rawUrl : rawUrl.slice(0, q)
  try {
    path = decodeURIComponent(path)
  } catch {
    return false // the legacy cannot route it either
  }
  if (path.endsWith('/')) path = path.slice(0, -1)
  const segments = path.toLowerCase().split('/')
  if (segments[0] !== '') return false
  if (method === 'PATCH') return segments.length === 4 && versionIs(segments[1]!, 2) && segments[2] === V2_STATUS[0] && segments[3] === V2_STATUS[1]
  // POST /api/v1/Prescriptions/<write>, or /api/Prescriptions/<write> with X-API-Version: 1.0.
  if (segments[1] !== 'api') return false
  const versioned = segments.length === 5 && versionIs(segments[2]!, 1)
  const rest = versioned ? segments.slice(3) : segments.slice(2)
  return rest.length === 2 && rest[0] === 'prescriptions' && V1_WRITES.has(rest[1]!)
}

function versionIs(segment: string, major: number): boolean {
  const m = VERSION.exec(segment)
  return m !== null && Number(m[1]) === major && Number(m[2] ?? '0') === 0
}
