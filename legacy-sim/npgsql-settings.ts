// Parses a tenant's Npgsql keyword connection string (docs/legacy-contract.md §2 step 4) into node-postgres settings.

export interface TenantConnectionSettings {
  host: string
  port: number
  database: string
  user: string
  password: string | undefined
  maxPoolSize: number
}

// Npgsql's keyword synonyms, lower-cased; keys are matched case-insensitively, spaces kept.
const CANONICAL_KEYS: Record<string, keyof TenantConnectionSettings> = {
  host: 'host', server: 'host',
  port: 'port',
  database: 'database', db: 'database', 'initial catalog': 'database',
  username: 'user', 'user name': 'user', 'user id': 'user', userid: 'user', uid: 'user', user: 'user',
  password: 'password', pwd: 'password', psw: 'password',
  'maximum pool size': 'maxPoolSize', 'max pool size': 'maxPoolSize', maxpoolsize: 'maxPoolSize',
}

// Npgsql's own defaults: port 5432 and at most 100 pooled connections per connection string.
const DEFAULT_PORT = 5432
const DEFAULT_MAX_POOL_SIZE = 100

/** Splits `key=value;...` with DbConnectionStringBuilder's quoting ('...' or "...", doubled to escape). */
export function parseKeywordPairs(text: string): Map<string, string> {
  const pairs = new Map<string, string>()
  let i = 0
  while (i < text.length) {
    while (i < text.length && (text[i] === ';' || text[i] === ' ')) i++ // empty segments
    if (i >= text.length) break
    const eq = text.indexOf('=', i)
    if (eq < 0) {
      if (text.slice(i).trim() !== '') throw new Error('connection string: a keyword without a value')
      break
    }
    const key = text.slice(i, eq).trim().toLowerCase()
    i = eq + 1
    while (i < text.length && text[i] === ' ') i++
    let value = ''
    const quote = text[i]
    if (quote === '"' || quote === "'") {
      i++
      for (;;) {
        if (i >= text.length) throw new Error('connection string: an unterminated quoted value')
        if (text[i] === quote) {
          if (text[i + 1] === quote) { value += quote; i += 2; continue }
          i++
          break
        }
        value += text[i++]
      }
      while (i < text.length && text[i] !== ';') {
        if (text[i] !== ' ') throw new Error('connection string: text after a quoted value')
        i++
      }
    } else {
      const semi = text.indexOf(';', i)
      const end = semi < 0 ? text.length : semi
      value = text.slice(i, end).trim()
      i = end
    }
    i++ // past ';'
    if (key !== '') pairs.set(key, value)
  }
  return pairs
}

export function parseNpgsqlConnectionString(text: string): TenantConnectionSettings {
  const settings: TenantConnectionSettings = {
    host: 'localhost', port: DEFAULT_PORT, database: '', user: '', password: undefined, maxPoolSize: DEFAULT_MAX_POOL_SIZE,
  }
  for (const [key, value] of parseKeywordPairs(text)) {
    const canonical = CANONICAL_KEYS[key]
    if (canonical === undefined) continue // Pooling, Timeout, SSL Mode...: no effect on where we connect
    switch (canonical) {
      case 'port':
      case 'maxPoolSize': {
        const n = Number(value)
        if (!Number.isInteger(n) || n <= 0) throw new Error(`connection string: ${key} must be a positive integer`)
        settings[canonical] = n
        break
      }
      case 'host':
        settings.host = value.split(',')[0]!.trim() // Npgsql accepts a host list; the first one serves
        break
      case 'password':
        settings.password = value
        break
      default:
        settings[canonical] = value
    }
  }
  if (settings.database === '') settings.database = settings.user
  return settings
}
