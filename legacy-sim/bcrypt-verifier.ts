// Runs BCrypt verifications on a small pool of worker threads (one per core): the legacy verifies on every request,
// on .NET's thread pool, so one request's ~100 ms of hashing must not stall every other request on the event loop.
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'

interface Pending { resolve: (ok: boolean) => void; reject: (error: Error) => void }

export class BcryptVerifier {
  readonly #workers: Worker[] = []
  readonly #pending = new Map<number, Pending>()
  readonly #size: number
  #nextId = 0
  #nextWorker = 0

  constructor(size = availableParallelism()) {
    this.#size = Math.max(1, size)
  }

  #worker(): Worker {
    if (this.#workers.length < this.#size) {
      const worker = new Worker(new URL('./bcrypt-worker.ts', import.meta.url))
      worker.unref() // an idle verifier never keeps the process alive
      worker.on('message', (reply: { id: number; ok: boolean }) => {
        const pending = this.#pending.get(reply.id)
        this.#pending.delete(reply.id)
        pending?.resolve(reply.ok)
      })
      worker.on('error', (error) => {
        for (const [id, pending] of this.#pending) {
          this.#pending.delete(id)
          pending.reject(error)
        }
      })
      this.#workers.push(worker)
      return worker
    }
    this.#nextWorker = (this.#nextWorker + 1) % this.#workers.length
    return this.#workers[this.#nextWorker]!
  }

  /** true when the password matches the hash; false for a mismatch or a malformed hash. */
  verify(password: string, hash: string): Promise<boolean> {
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      this.#worker().postMessage({ id, password, hash })
    })
  }

  async close(): Promise<void> {
    const workers = this.#workers.splice(0)
    await Promise.all(workers.map((w) => w.terminate()))
  }
}
