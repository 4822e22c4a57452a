// Micro-benchmark of what issue 16 point 9 adds per cached answer: the keyed hash of a Redis key name,
// and sealing/opening a record with AES-256-GCM (cache/redis-secrets.ts). `node bench/probes/redis-secrets-micro.ts`
// Times are CPU time of this process (process.cpuUsage): on a shared machine wall time also counts the
// other processes' turns. Min is the least disturbed round, median the typical one.
import { randomBytes } from 'node:crypto'
import { BodySealer, RedisKeyHasher } from '../../cache/redis-secrets.ts'

function cpuUs(rounds: number, run: () => void): number {
  const start = process.cpuUsage()
  for (let i = 0; i < rounds; i++) run()
  const used = process.cpuUsage(start)
  return (used.user + used.system) / rounds
}

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b)
  return `min ${sorted[0]!.toFixed(1)} µs, median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} µs`
}

const hasher = new RedisKeyHasher(randomBytes(32).toString('base64'))
const tenant = JSON.stringify(['db.example.internal', 5432, 'apoti_hirsch', 'hirsch_user', 'secret'])
console.log(`keyed hash of a tenant identity: ${summary(Array.from({ length: 9 }, () => cpuUs(20_000, () => hasher.hash(tenant))))}`)

const sealer = new BodySealer(randomBytes(32).toString('base64'))
const key = 'fastpath:cache:r2s:{0123456789abcdef0123456789abcdef}:17:v2.rezept.list|abc|eMuster16|1|100'
for (const bytes of [4 * 1024, 64 * 1024, 1024 * 1024]) {
  const record = randomBytes(bytes)
  const rounds = Math.max(20, Math.floor(4_000_000 / bytes))
  const sealed = sealer.seal(record, key)
  const seal = Array.from({ length: 9 }, () => cpuUs(rounds, () => sealer.seal(record, key)))
  const open = Array.from({ length: 9 }, () => cpuUs(rounds, () => sealer.open(sealed, key)))
  console.log(`${String(bytes / 1024).padStart(5)} KiB record: seal ${summary(seal)}; open ${summary(open)}`)
}
