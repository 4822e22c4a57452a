// The fair share in front of the legacy's connections (proxy/upstream-gate.ts): capacity, a share
// per client, first come first served, a bounded wait, and slots that come back exactly once.
import t from 'tap'
import { UpstreamGate, type Leave } from '../../proxy/upstream-gate.ts'

function recorder() {
  const log: string[] = []
  const leaves = new Map<string, Leave>()
  const enter = (gate: UpstreamGate, client: string, name: string, anonymous = true): Leave =>
    gate.enter(client, anonymous, (leave) => { log.push(`in ${name}`); leaves.set(name, leave) }, () => log.push(`refused ${name}`))
  return { log, leaves, enter }
}

t.test('within capacity at once; then waiters in arrival order as slots come back', async (t) => {
  const gate = new UpstreamGate({ capacity: 2, perClient: 10, queueTimeoutMs: 10_000, anonymousCapacity: 100 })
  const { log, leaves, enter } = recorder()
  enter(gate, 'a', 'a1')
  enter(gate, 'b', 'b1')
  enter(gate, 'c', 'c1')
  enter(gate, 'd', 'd1')
  t.same(log, ['in a1', 'in b1'])
  t.equal(gate.waiting, 2)
  leaves.get('b1')!()
  leaves.get('b1')!() // a second leave gives nothing back twice
  t.same(log, ['in a1', 'in b1', 'in c1'])
  t.equal(gate.inFlight, 2)
  leaves.get('a1')!()
  t.same(log.at(-1), 'in d1')
  leaves.get('c1')!()
  leaves.get('d1')!()
  t.equal(gate.inFlight, 0)
  t.equal(gate.waiting, 0)
})

t.test('one client over its share, or a queue as long as the pool, is refused at once', async (t) => {
  const gate = new UpstreamGate({ capacity: 2, perClient: 2, queueTimeoutMs: 10_000, anonymousCapacity: 100 })
  const { log, leaves, enter } = recorder()
  enter(gate, 'a', 'a1')
  enter(gate, 'a', 'a2')
  enter(gate, 'a', 'a3')
  t.same(log, ['in a1', 'in a2', 'refused a3'], 'a third request of a is over its share')
  enter(gate, 'b', 'b1')
  enter(gate, 'c', 'c1')
  enter(gate, 'd', 'd1')
  t.same(log.slice(3), ['refused d1'], 'b and c wait, d finds the queue full')
  leaves.get('a1')!()
  enter(gate, 'a', 'a4')
  t.same(log.slice(4), ['in b1'], 'a4 waits behind c (a holds one slot and one place)')
  leaves.get('a2')!()
  leaves.get('b1')!()
  t.same(log.slice(5), ['in c1', 'in a4'])
})

t.test('a waiter is refused after queueTimeoutMs; one that leaves while waiting is never admitted', async (t) => {
  const gate = new UpstreamGate({ capacity: 1, perClient: 5, queueTimeoutMs: 50, anonymousCapacity: 100 })
  const { log, enter } = recorder()
  enter(gate, 'a', 'a1')
  const gone = enter(gate, 'b', 'b1')
  const refused = new Promise<void>((resolve) => gate.enter('c', true, () => log.push('in c1'), () => { log.push('refused c1'); resolve() }))
  gone()
  await refused
  t.same(log, ['in a1', 'refused c1'])
  t.equal(gate.waiting, 0, 'nobody left waiting')
  t.equal(gate.inFlight, 1)
})

t.test('anonymous clients together hold at most their part; a verified user gets the rest, passing them in the queue', async (t) => {
  const gate = new UpstreamGate({ capacity: 4, perClient: 10, queueTimeoutMs: 10_000, anonymousCapacity: 3 })
  const { log, leaves, enter } = recorder()
  for (const name of ['x1', 'x2', 'x3', 'x4']) enter(gate, name, name)
  t.same(log, ['in x1', 'in x2', 'in x3'], 'the fourth anonymous request waits although a slot is free')
  enter(gate, 'user:arz-klein', 'u1', false)
  t.same(log.at(-1), 'in u1', 'the verified user takes it at once')
  enter(gate, 'user:arz-gross', 'u2', false)
  t.same(log.at(-1), 'in u1', 'the pool is full: u2 waits')
  leaves.get('u1')!()
  t.same(log.at(-1), 'in u2', 'a user\'s slot goes to the waiting user, not to x4 ahead of it (anonymous part full)')
  leaves.get('x1')!()
  t.same(log.at(-1), 'in x4', 'an anonymous slot goes to the anonymous waiter')
})
