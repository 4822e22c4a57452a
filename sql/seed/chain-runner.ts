// Runs chains of load tasks on a few connections at once: each connection takes the next chain
// (heaviest first) when it is free, and runs that chain's tasks in order (the loading chains in one
// transaction each).
import type pg from 'pg'
import type { LoadTask } from './load-plan.ts'

// Why one transaction per chain: a chain's later statements update rows its earlier ones wrote (the
// edge rows). Between transactions PostgreSQL may prune the dead row versions, and whether it may
// depends on the other connection's transactions at that moment; the space pruning frees takes the
// next row versions, so the physical order of the rows (ctid) varied from one seeding to the next.
// Inside one transaction nothing of the chain's is prunable, and no statistics reach autovacuum
// before the commit: the same seed writes every row to the same place.
export async function runChains(
  clients: readonly pg.Client[],
  chains: readonly (readonly LoadTask[])[],
  onTaskDone: (task: LoadTask) => void,
  options: { oneTransactionPerChain: boolean } = { oneTransactionPerChain: false },
): Promise<void> {
  const begin = options.oneTransactionPerChain ? 'BEGIN' : null
  let next = 0
  let failed = false
  const worker = async (client: pg.Client): Promise<void> => {
    while (!failed && next < chains.length) {
      const chain = chains[next++]!
      if (begin) await client.query(begin)
      for (const task of chain) {
        if (failed) break
        try {
          for (const statement of task.statements) await client.query(statement.text, statement.values)
        } catch (error) {
          failed = true
          if (begin) await client.query('ROLLBACK').catch(() => {})
          throw new Error(`seeding step "${task.label}" failed: ${(error as Error).message}`, { cause: error })
        }
        onTaskDone(task)
      }
      if (begin) await client.query(failed ? 'ROLLBACK' : 'COMMIT')
    }
  }
  await Promise.all(clients.map(worker))
}
