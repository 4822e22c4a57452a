// The thread behind bcrypt-pool.ts: compares one password with one BCrypt hash per message, in order.
import bcrypt from 'bcryptjs'
import { parentPort } from 'node:worker_threads'

interface Comparison {
  readonly id: number
  readonly password: string
  readonly hash: string
}

// Imports loaded: the pool may count this thread as started (BcryptPool.started).
parentPort!.postMessage({ started: true })

parentPort!.on('message', ({ id, password, hash }: Comparison) => {
  let matches = false
  try {
    matches = bcrypt.compareSync(password, hash)
  } catch {
    // A hash bcryptjs cannot read matches nothing, as on the event loop before.
  }
  parentPort!.postMessage({ id, matches })
})
