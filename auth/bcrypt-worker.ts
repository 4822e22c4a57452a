// The thread behind bcrypt-pool.ts: compares one password with one BCrypt hash per message, in order.
// Native BCrypt (@node-rs/bcrypt) where it loads, synchronously on this thread: ~1.35x bcryptjs's
// comparisons per core here (bench/probes/bcrypt-micro.ts), and the pool's lanes and bounds still see
// every comparison begin and end. bcryptjs where no native binary loads.
import bcryptjs from 'bcryptjs'
import { parentPort } from 'node:worker_threads'
import { nativeBcrypt } from './bcrypt-native.ts'

interface Comparison {
  readonly id: number
  readonly password: string
  readonly hash: string
}

const compareSync = nativeBcrypt()?.compareSync ?? bcryptjs.compareSync

// Imports loaded: the pool may count this thread as started (BcryptPool.started).
parentPort!.postMessage({ started: true })

parentPort!.on('message', ({ id, password, hash }: Comparison) => {
  let matches = false
  try {
    matches = compareSync(password, hash)
  } catch {
    // A hash the library cannot read matches nothing, as on the event loop before.
  }
  parentPort!.postMessage({ id, matches })
})
