// Keeps mismatch records: a bounded ring in memory (what GET /shadow/mismatches lists) and, when a
// path is configured, an NDJSON file rotated by size (path, path.1 … path.N). Full bodies, when an
// operator enabled them, are dropped after the retention limit from both.
import { appendFile, rename, rm, stat } from 'node:fs/promises'
import type { MismatchRecord } from './mismatch-record.ts'

export interface MismatchLogOptions {
  readonly ringSize: number
  /** NDJSON file; undefined: memory only. */
  readonly path: string | undefined
  readonly maxFileBytes: number
  /** Rotated files kept besides the current one. */
  readonly keepFiles: number
  /** How long a record's full bodies are kept (ring and files); only matters with full bodies on. */
  readonly bodyRetentionMs: number
  readonly onError: (error: Error) => void
}

export class MismatchLog {
  readonly #options: MismatchLogOptions
  readonly #ring: (MismatchRecord | undefined)[]
  #next = 0
  #count = 0
  #fileBytes: number | undefined
  /** When the oldest record with bodies still on disk was written (for the retention limit). */
  #bodiesSince: number | undefined
  readonly #sweep: NodeJS.Timeout | undefined
  /** Writes in order, one at a time, never awaited by anyone serving a request. */
  #writing: Promise<void> = Promise.resolve()

  constructor(options: MismatchLogOptions) {
    this.#options = options
    this.#ring = new Array(options.ringSize)
    // Bodies on disk must go even when no new record arrives to trigger a rotation.
    if (options.path !== undefined) {
      this.#sweep = setInterval(() => this.#purgeExpired(), Math.min(options.bodyRetentionMs, 60_000))
      this.#sweep.unref()
    }
  }

  close(): Promise<void> {
    clearInterval(this.#sweep)
    return this.#writing
  }

  #purgeExpired(): void {
    if (!this.#bodiesExpired()) return
    this.#writing = this.#writing.then(() => this.#rotate(true)).catch((error: unknown) => this.#options.onError(error as Error))
  }

  #bodiesExpired(): boolean {
    return this.#bodiesSince !== undefined && Date.now() - this.#bodiesSince > this.#options.bodyRetentionMs
  }

  add(record: MismatchRecord): void {
    if (this.#options.ringSize > 0) {
      this.#ring[this.#next] = record
      this.#next = (this.#next + 1) % this.#options.ringSize
      this.#count = Math.min(this.#count + 1, this.#options.ringSize)
    }
    if (this.#options.path !== undefined) {
      const line = `${JSON.stringify(record)}\n`
      const withBodies = record.bodies !== undefined
      this.#writing = this.#writing.then(() => this.#append(line, withBodies)).catch((error: unknown) => this.#options.onError(error as Error))
    }
  }

  /** Newest first; full bodies older than the retention limit are dropped on the way. */
  list(now = Date.now()): MismatchRecord[] {
    const out: MismatchRecord[] = []
    const size = this.#options.ringSize
    for (let i = 1; i <= this.#count; i++) {
      const record = this.#ring[(this.#next - i + size) % size]!
      if (record.bodies !== undefined && now - Date.parse(record.at) > this.#options.bodyRetentionMs) delete record.bodies
      out.push(record)
    }
    return out
  }

  /** Resolves when every record added so far is on disk (tests, shutdown). */
  flushed(): Promise<void> {
    return this.#writing
  }

  async #append(line: string, withBodies: boolean): Promise<void> {
    const path = this.#options.path!
    if (this.#fileBytes === undefined) this.#fileBytes = await stat(path).then((s) => s.size, () => 0)
    const bytes = Buffer.byteLength(line)
    const expired = this.#bodiesExpired()
    if (this.#fileBytes > 0 && (this.#fileBytes + bytes > this.#options.maxFileBytes || expired)) await this.#rotate(expired)
    await appendFile(path, line, { mode: 0o600 })
    this.#fileBytes += bytes
    if (withBodies) this.#bodiesSince ??= Date.now()
  }

  /**
   * path → path.1 → … → path.keepFiles, the oldest dropped. When the oldest bodies on disk are past
   * their retention, every file goes (the records also sit in the ring; the files are the archive).
   */
  async #rotate(bodiesExpired: boolean): Promise<void> {
    const { path, keepFiles } = this.#options as { path: string; keepFiles: number }
    if (keepFiles === 0 || bodiesExpired) {
      for (let i = 1; i <= Math.max(keepFiles, 1); i++) await rm(`${path}.${i}`, { force: true })
      await rm(path, { force: true })
    } else {
      await rm(`${path}.${keepFiles}`, { force: true })
      for (let i = keepFiles - 1; i >= 1; i--) await rename(`${path}.${i}`, `${path}.${i + 1}`).catch(() => {})
      await rename(path, `${path}.1`).catch(() => {})
    }
    this.#fileBytes = 0
    if (bodiesExpired || keepFiles === 0) this.#bodiesSince = undefined
  }
}
