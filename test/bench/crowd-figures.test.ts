// Issue 24: the crowd's figures beside the whole run's p95: the steady state (requests due from
// steadyAfterMs on) and when every user had its first answer. A fake send, no server, no timing judged.
import t from 'tap'
import { runTurn } from '../../bench/load.ts'

t.test('steady-state latencies and every user\'s first answer are reported', async (t) => {
  const began = performance.now()
  // Four users; user 3's requests fail until 150 ms in, then it is answered.
  const result = await runTurn({
    connections: 4, intervalMs: 50, seconds: 0.3, maxRequests: 1000, requestTimeoutMs: 1000,
    steadyAfterMs: 100,
    userOf: (n) => `user-${n % 4}`,
    send: async (_connection, n) => (n % 4 === 3 && performance.now() - began < 150 ? new Error('HTTP 401') : 10),
  })
  t.ok(result.steadyLatenciesMs.length > 0 && result.steadyLatenciesMs.length < result.latenciesMs.length, 'the steady state is the later part of the run')
  t.ok(result.firstAnswers !== undefined)
  t.equal(result.firstAnswers!.users, 4)
  t.equal(result.firstAnswers!.answered, 4)
  t.ok(result.firstAnswers!.allAnsweredMs >= 150, `the last user's first answer came after its failures (${result.firstAnswers!.allAnsweredMs.toFixed(0)} ms)`)
})

t.test('a user never answered makes the time NaN; without the options nothing extra is counted', async (t) => {
  const never = await runTurn({
    connections: 2, intervalMs: 20, seconds: 0.1, maxRequests: 1000, requestTimeoutMs: 1000,
    userOf: (n) => `user-${n % 2}`, send: async (_connection, n) => (n % 2 === 1 ? new Error('HTTP 500') : 1),
  })
  t.same({ users: never.firstAnswers!.users, answered: never.firstAnswers!.answered }, { users: 2, answered: 1 })
  t.ok(Number.isNaN(never.firstAnswers!.allAnsweredMs))
  const plain = await runTurn({ connections: 1, intervalMs: undefined, seconds: 0.05, maxRequests: 5, requestTimeoutMs: 1000, send: async () => 1 })
  t.equal(plain.firstAnswers, undefined)
  t.equal(plain.steadyLatenciesMs.length, 0)
})
