// Parses an Authorization header exactly as the legacy does (docs/legacy-contract.md §2 step 1), or returns null when the fast path should not judge it.

export interface BasicCredentials {
  readonly user: string
  readonly password: string
}

// Convert.FromBase64String accepts only whole groups of four with padding at the end. Blanks inside
// the parameter are also accepted by .NET; such headers are left to the legacy.
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

export function parseBasicCredentials(header: string | string[] | undefined): BasicCredentials | null {
  if (typeof header !== 'string') return null
  if (header.length < 7 || header.charCodeAt(5) !== 0x20) return null
  if (header.slice(0, 5).toLowerCase() !== 'basic') return null
  const parameter = header.slice(6)
  if (parameter === '' || !STRICT_BASE64.test(parameter)) return null
  const decoded = Buffer.from(parameter, 'base64').toString('utf8')
  // Invalid UTF-8 decodes to U+FFFD in both runtimes, but a user name containing it is not worth the risk.
  if (decoded.includes('\uFFFD')) return null
  const colon = decoded.indexOf(':')
  if (colon < 0) return null
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}
