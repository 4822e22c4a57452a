// Remembers each tenant's per-type counts with the PostgreSQL snapshot they were counted under; a count is reused only while the snapshot is unchanged.
import type { PrescriptionType } from '../../sql/queries/prescription-types.ts'

// Why this is exact: two equal snapshots (xmin:xmax:in-progress list) see the same committed
// transactions, and every change of a row needs a transaction id. So an equal snapshot now proves
// that nothing committed since the count, in this database or any other of the cluster. Any commit
// anywhere changes the snapshot and the count is taken again: busy clusters just miss more often.

interface CountEntry {
  readonly snapshot: string
  readonly count: number
}

const MAX_ENTRIES = 10_000

export class SnapshotCountCache {
  readonly #entries = new Map<string, CountEntry>()

  static key(databaseIdentity: string, type: PrescriptionType): string {
    return type.key + '\0' + databaseIdentity
  }

  /** Whether a count is kept for this key, under any snapshot. */
  holds(key: string): boolean {
    return this.#entries.has(key)
  }

  /** The count taken under exactly this snapshot, or undefined. */
  get(key: string, snapshot: string): number | undefined {
    const entry = this.#entries.get(key)
    return entry !== undefined && entry.snapshot === snapshot ? entry.count : undefined
  }

  set(key: string, snapshot: string, count: number): void {
    if (!this.#entries.has(key) && this.#entries.size >= MAX_ENTRIES) this.#entries.clear()
    this.#entries.set(key, { snapshot, count })
  }
}
