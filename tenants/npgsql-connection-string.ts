// Reads a tenant's Npgsql keyword connection string (docs/legacy-contract.md §2 step 4) into where to connect, or refuses what it is not sure of.

export interface TenantDatabase {
  readonly host: string
  readonly port: number
  readonly database: string
  readonly user: string
  readonly password: string | undefined
  /**
   * Identity of the database and role: equal exactly when two strings reach the same database as
   * the same user, whatever key spelling or case they use. Holds the password: never log it.
   */
  readonly identity: string
  /** host:port/database, safe for logs and metric labels. */
  readonly label: string
}

export class UnusableConnectionStringError extends Error {
  constructor(reason: string) {
    super(`tenant connection string unusable by the fast path: ${reason}`)
    this.name = 'UnusableConnectionStringError'
  }
}

type Field = 'host' | 'port' | 'database' | 'user' | 'password' | 'ignored'

// Npgsql's keys and synonyms (lower-cased; DbConnectionStringBuilder folds key case). Keys that only
// tune Npgsql's own pooling or timeouts do not change which database answers: read and ignored.
const KEYS: Readonly<Record<string, Field>> = {
  host: 'host', server: 'host',
  port: 'port',
  database: 'database', db: 'database',
  username: 'user', 'user name': 'user', userid: 'user', 'user id': 'user', uid: 'user',
  password: 'password', psw: 'password', pwd: 'password',
  pooling: 'ignored', 'minimum pool size': 'ignored', minpoolsize: 'ignored', 'min pool size': 'ignored',
  'maximum pool size': 'ignored', maxpoolsize: 'ignored', 'max pool size': 'ignored',
  timeout: 'ignored', 'command timeout': 'ignored', commandtimeout: 'ignored',
  'connection idle lifetime': 'ignored', 'connectionidlelifetime': 'ignored',
  'connection lifetime': 'ignored', 'connectionlifetime': 'ignored', 'load balance hosts': 'ignored',
  'application name': 'ignored', applicationname: 'ignored', 'include error detail': 'ignored',
  includeerrordetail: 'ignored', keepalive: 'ignored', 'internal command timeout': 'ignored',
}

/** Splits `key=value;...` with DbConnectionStringBuilder's quoting ('...' or "...", a doubled quote escapes). */
function keywordPairs(text: string): Map<string, string> {
  const pairs = new Map<string, string>()
  let i = 0
  while (i < text.length) {
    const eq = text.indexOf('=', i)
    if (eq < 0) {
      if (text.slice(i).trim() !== '') throw new UnusableConnectionStringError('a keyword without a value')
      break
    }
    const key = text.slice(i, eq).trim().toLowerCase()
    if (key.includes(';')) throw new UnusableConnectionStringError('a keyword without a value')
    i = eq + 1
    if (text[i] === '=') throw new UnusableConnectionStringError('an escaped = in a keyword')
    while (text[i] === ' ') i++
    let value = ''
    const quote = text[i]
    if (quote === '"' || quote === "'") {
      i++
      for (;;) {
        if (i >= text.length) throw new UnusableConnectionStringError('an unterminated quoted value')
        if (text[i] === quote) {
          if (text[i + 1] === quote) { value += quote; i += 2; continue }
          i++
          break
        }
        value += text[i++]
      }
      while (i < text.length && text[i] !== ';') {
        if (text[i] !== ' ') throw new UnusableConnectionStringError('text after a quoted value')
        i++
      }
    } else {
      const semi = text.indexOf(';', i)
      const end = semi < 0 ? text.length : semi
      value = text.slice(i, end).trim()
      i = end
    }
    i++
    if (key === '') continue
    // Npgsql takes the last of repeated keys; synonyms are folded below, so record every spelling.
    pairs.set(key, value)
  }
  return pairs
}

export function parseTenantDatabase(text: string): TenantDatabase {
  const fields: Partial<Record<Exclude<Field, 'ignored'>, string>> = {}
  for (const [key, value] of keywordPairs(text)) {
    const field = KEYS[key]
    // SSL modes, multiple hosts, Kerberos...: what Npgsql would do there is not ours to guess.
    if (field === undefined) throw new UnusableConnectionStringError(`the keyword "${key}" is not one the fast path understands`)
    if (field === 'ignored') continue
    if (fields[field] !== undefined && fields[field] !== value) throw new UnusableConnectionStringError(`${field} given twice`)
    fields[field] = value
  }
  const host = fields.host
  if (host === undefined || host === '' || host.includes(',') || host.startsWith('/')) {
    throw new UnusableConnectionStringError('host missing, a host list, or a socket directory')
  }
  const portText = fields.port ?? '5432'
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) throw new UnusableConnectionStringError('port is not a port number')
  const user = fields.user
  if (user === undefined || user === '') throw new UnusableConnectionStringError('no user name')
  const database = fields.database === undefined || fields.database === '' ? user : fields.database
  const port = Number(portText)
  const normalizedHost = host.toLowerCase()
  return Object.freeze({
    host, port, database, user, password: fields.password,
    identity: JSON.stringify([normalizedHost, port, database, user, fields.password ?? null]),
    label: `${normalizedHost}:${port}/${database}`,
  })
}
