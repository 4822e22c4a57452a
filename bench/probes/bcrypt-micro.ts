// Micro-benchmark of BCrypt comparisons (issue 24): bcryptjs (JavaScript) against @node-rs/bcrypt
// (Rust, prebuilt), synchronously on this one thread (= comparisons per second per core) and, for the
// native one, its async form on libuv's threadpool. `npx node bench/probes/bcrypt-micro.ts`
// Sync figures are CPU time of this process (process.cpuUsage), so the other processes' turns on a
// shared machine do not count; async figures are wall time (the threadpool's work is not ours alone).
import { availableParallelism, loadavg } from 'node:os'
import bcryptjs from 'bcryptjs'
import { nativeBcrypt } from '../../auth/bcrypt-native.ts'

const PASSWORD = 'Richtig-12-äö'
const native = nativeBcrypt()
if (native === undefined) throw new Error('@node-rs/bcrypt did not load on this platform')

function perSecondCpu(rounds: number, run: () => void): number {
  const start = process.cpuUsage()
  for (let i = 0; i < rounds; i++) run()
  const used = process.cpuUsage(start)
  return rounds / ((used.user + used.system) / 1e6)
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
}

console.log(`${new Date().toISOString()}  load ${loadavg().map((l) => l.toFixed(2)).join(' ')}  cores ${availableParallelism()}  ${process.version}`)
for (const cost of [10, 12]) {
  const hash = bcryptjs.hashSync(PASSWORD, cost)
  if (!native.compareSync(PASSWORD, hash) || !bcryptjs.compareSync(PASSWORD, hash)) throw new Error('the libraries disagree')
  const rounds = cost === 10 ? 12 : 4
  const js = median(Array.from({ length: 5 }, () => perSecondCpu(rounds, () => bcryptjs.compareSync(PASSWORD, hash))))
  const rs = median(Array.from({ length: 5 }, () => perSecondCpu(rounds, () => native.compareSync(PASSWORD, hash))))
  // Async: as many at once as there are cores, on libuv's threadpool.
  const parallel = availableParallelism()
  const began = performance.now()
  for (let round = 0; round < rounds; round++) await Promise.all(Array.from({ length: parallel }, () => native.compare(PASSWORD, hash)))
  const asyncPerSecond = (rounds * parallel) / ((performance.now() - began) / 1000)
  console.log(`cost ${cost}: bcryptjs ${js.toFixed(1)}/s per core; @node-rs/bcrypt sync ${rs.toFixed(1)}/s per core (${(rs / js).toFixed(2)}x); ` +
    `@node-rs/bcrypt async ${parallel} at once ${asyncPerSecond.toFixed(1)}/s wall (all cores)`)
}
