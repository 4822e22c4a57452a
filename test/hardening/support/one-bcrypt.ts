// The unit the issue states BCrypt bounds in: one comparison on this machine, now.
import { availableParallelism } from 'node:os'
import { BcryptPool } from '../../../auth/bcrypt-pool.ts'

/**
 * One comparison of `password` with `hash` while every thread of a verifier's pool (one per core)
 * runs one, as during a flood. Measured each time: the machine may be busy.
 */
export async function oneBcrypt(password: string, hash: string): Promise<number> {
  const threads = availableParallelism()
  const pool = new BcryptPool(threads)
  await pool.started
  const began = performance.now()
  await Promise.all(Array.from({ length: threads }, () => pool.compare(password, hash)))
  const took = performance.now() - began
  await pool.close()
  return took
}
