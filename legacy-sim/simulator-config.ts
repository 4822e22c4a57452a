// The simulator's options from argv and environment, validated once at start-up and frozen.
import { readFileSync } from 'node:fs'
import { DEFAULT_TIME_ZONE, zoneFormatter } from './server-date.ts'
import { DEFAULT_ENVIRONMENT, DEFAULT_MAX_PAGE_SIZE, type LegacySimOptions } from './server.ts'

export interface SimulatorConfig extends LegacySimOptions {
  port: number
  host: string
  maxPageSize: number
  environment: string
  timeZone: string
}

export const DEFAULT_PORT = 5100
export const DEFAULT_ARZSW_URL = 'postgres://postgres@127.0.0.1:5432/fastpath_arzsw'

function positiveInteger(name: string, text: string, allowZero: boolean): number {
  const n = Number(text)
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || (!allowZero && n === 0)) {
    throw new Error(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got '${text}'`)
  }
  return n
}

/** Options: `--port N` / PORT, `--host H` / HOST, ARZSW_URL, LEGACY_MAX_PAGE_SIZE, LEGACY_ENVIRONMENT, LEGACY_TIME_ZONE, TLS_CERT_FILE with TLS_KEY_FILE (HTTPS). */
export function parseSimulatorConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Readonly<SimulatorConfig> {
  let portText = env.PORT
  let host = env.HOST ?? '127.0.0.1'
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined]
    const value = inline ?? argv[++i]
    if (value === undefined) throw new Error(`${flag} needs a value`)
    if (flag === '--port') portText = value
    else if (flag === '--host') host = value
    else throw new Error(`unknown option ${flag}; accepted: --port, --host`)
  }
  const port = portText === undefined || portText === '' ? DEFAULT_PORT : positiveInteger('--port/PORT', portText, true)
  if (port > 65535) throw new Error(`--port/PORT must be at most 65535, got ${port}`)
  const arzswUrl = env.ARZSW_URL || DEFAULT_ARZSW_URL
  try {
    new URL(arzswUrl)
  } catch {
    throw new Error('ARZSW_URL must be a postgres:// URL')
  }
  const maxPageSize = env.LEGACY_MAX_PAGE_SIZE ? positiveInteger('LEGACY_MAX_PAGE_SIZE', env.LEGACY_MAX_PAGE_SIZE, false) : DEFAULT_MAX_PAGE_SIZE
  if (maxPageSize > 2147483647) throw new Error('LEGACY_MAX_PAGE_SIZE must fit a 32-bit integer')
  const environment = env.LEGACY_ENVIRONMENT || DEFAULT_ENVIRONMENT
  const timeZone = env.LEGACY_TIME_ZONE || DEFAULT_TIME_ZONE
  try {
    zoneFormatter(timeZone)
  } catch {
    throw new Error(`LEGACY_TIME_ZONE must be an IANA time zone such as Europe/Berlin, got '${timeZone}'`)
  }
  if (!env.TLS_CERT_FILE !== !env.TLS_KEY_FILE) throw new Error('TLS_CERT_FILE and TLS_KEY_FILE: set both for HTTPS, or neither')
  const tls = env.TLS_CERT_FILE && env.TLS_KEY_FILE ? { cert: readPem('TLS_CERT_FILE', env.TLS_CERT_FILE), key: readPem('TLS_KEY_FILE', env.TLS_KEY_FILE) } : undefined
  return Object.freeze({ port, host, arzswUrl, maxPageSize, environment, timeZone, ...(tls ? { tls } : {}) })
}

function readPem(name: string, path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw new Error(`${name} (${path}) cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
}
