// The legacy's Basic authentication (docs/legacy-contract.md §2): header parsing, one ArzSw query and a BCrypt verify per request, no cache.
import type pg from 'pg'
import type { BcryptVerifier } from './bcrypt-verifier.ts'

export interface AuthenticatedTenant {
  loginName: string
  /** The user's arzsw_datenbank.datenbank_connection_string (Npgsql keyword format). */
  connectionString: string
}

// The user with their tenant and database, as the legacy's EF query joins them (INNER JOINs).
const USER_LOOKUP_SQL = `SELECT b.login_passwort, b.login_passwort_crypt, d.datenbank_connection_string
  FROM arzsw_benutzer b
  JOIN arzsw_mandant m ON m.arzsw_mandant_id = b.arzsw_mandant_id
  JOIN arzsw_datenbank d ON d.arzsw_datenbank_id = b.arzsw_datenbank_id
 WHERE b.login_name = $1
 LIMIT 1`

interface UserRow {
  login_passwort: string
  login_passwort_crypt: string | null
  datenbank_connection_string: string
}

// Convert.FromBase64String's alphabet: whole groups of four, padding only at the end.
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/**
 * The Authorization header as ASP.NET Core reads it: every occurrence joined with `, ` (docs/legacy-contract.md §2;
 * two credentials then never parse, a 401 even when both are valid). From the raw header lines,
 * because Node keeps only the first Authorization in `req.headers`.
 */
export function authorizationHeader(rawHeaders: readonly string[]): string | undefined {
  let value: string | undefined
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== 'authorization') continue
    value = value === undefined ? rawHeaders[i + 1]! : `${value}, ${rawHeaders[i + 1]!}`
  }
  return value
}

/** user name and password from an Authorization header, or null when §2 step 1 fails. */
export function parseBasicCredentials(header: string | undefined): { user: string; password: string } | null {
  if (header === undefined) return null
  const space = header.indexOf(' ')
  if (space < 0 || header.slice(0, space).toLowerCase() !== 'basic') return null
  // Convert.FromBase64String skips white space inside the text.
  const parameter = header.slice(space + 1).replace(/[ \t\r\n]/g, '')
  if (parameter === '' || !STRICT_BASE64.test(parameter)) return null
  const decoded = Buffer.from(parameter, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return null
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
}

async function passwordMatches(bcrypt: BcryptVerifier, row: UserRow, password: string): Promise<boolean> {
  const hash = row.login_passwort_crypt
  if (hash !== null && hash !== '') return bcrypt.verify(password, hash)
  return password === row.login_passwort
}

/**
 * The tenant of an authenticated request, or null for a 401. The legacy's handler wraps everything
 * in one catch that fails the authentication, so an unreachable ArzSw is a 401 too, not a 500.
 */
export async function authenticate(arzsw: pg.Pool, bcrypt: BcryptVerifier, authorization: string | undefined): Promise<AuthenticatedTenant | null> {
  const credentials = parseBasicCredentials(authorization)
  if (credentials === null) return null
  let row: UserRow | undefined
  try {
    row = (await arzsw.query<UserRow>(USER_LOOKUP_SQL, [credentials.user])).rows[0]
  } catch {
    return null
  }
  if (row === undefined) return null
  if (!(await passwordMatches(bcrypt, row, credentials.password))) return null
  return { loginName: credentials.user, connectionString: row.datenbank_connection_string }
}
