// Worker thread body: verifies one BCrypt hash per message, so verifications run in parallel like .NET's thread pool.
import { parentPort } from 'node:worker_threads'
import bcrypt from 'bcryptjs'

parentPort!.on('message', (job: { id: number; password: string; hash: string }) => {
  let ok = false
  try {
    ok = bcrypt.compareSync(job.password, job.hash)
  } catch {
    ok = false // a malformed hash fails the login (docs/legacy-contract.md §2 step 3)
  }
  parentPort!.postMessage({ id: job.id, ok })
})
