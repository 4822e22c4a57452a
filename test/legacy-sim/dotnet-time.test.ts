// The tests' reading of .NET DateTime text (test/support/dotnet-time.ts): instants, not text order.
import t from 'tap'
import { byDotnetInstant, dotnetTicks } from '../support/dotnet-time.ts'

t.test('a fraction whose trailing zeros .NET dropped is earlier than a longer one it sorts after as text', async (t) => {
  const [short, long] = ['2026-12-03T18:07:07.73751Z', '2026-12-03T18:07:07.7375166Z']
  t.ok(short > long, 'as text the earlier one sorts last (the regression)')
  t.equal(dotnetTicks(long) - dotnetTicks(short), 66n, '66 ticks apart')
  t.same([long, short].sort(byDotnetInstant), [short, long])
})

t.test('a whole second without a fraction is earlier than the same second with one', async (t) => {
  t.ok(dotnetTicks('2026-12-03T18:07:07Z') < dotnetTicks('2026-12-03T18:07:07.1Z'))
  t.equal(dotnetTicks('2026-12-03T18:07:07.1Z') - dotnetTicks('2026-12-03T18:07:07Z'), 1_000_000n)
})

t.test('Ticks as DateTime counts them, from 0001-01-01, with or without Z', async (t) => {
  t.equal(dotnetTicks('0001-01-01T00:00:00'), 0n)
  t.equal(dotnetTicks('1970-01-01T00:00:00Z'), 621_355_968_000_000_000n)
  t.equal(dotnetTicks('9999-12-31T23:59:59.9999999Z'), 3_155_378_975_999_999_999n, 'DateTime.MaxValue.Ticks')
  t.equal(dotnetTicks('0099-03-01T00:00:00'), 30_976_992_000_000_000n, 'a year below 100 is that year')
})

t.test('anything else is refused, not ordered somewhere', async (t) => {
  for (const text of ['2025-02-29T00:00:00Z', '2025-01-15T24:00:00Z', '2025-01-15T08:00:00.12345678Z', '2025-01-15 08:00:00Z', '<now>']) {
    t.throws(() => dotnetTicks(text), `${text} refused`)
  }
})
