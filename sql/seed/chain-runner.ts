// Runs chains of load tasks on a few connections at once: each connection takes the next chain
// (heaviest first) when it is free, and runs that chain's tasks in order.
import type pg from 'pg'
import type { LoadTask } from './load-plan.ts'

export async function runChains(
  clients: readonly pg.Client[],
  chains: readonly (readonly LoadTask[])[],
  onTaskDone: (task: LoadTask) => void,
): Promise<void> {
  let next = 0
  let failed = false
  const worker = async (client: pg.Client): Promise<void> => {
    while (!failed && next < chains.length) {
      const chain = chains[next++]!
      for (const task of chain) {
        if (failed) return
        try {
          for (const statement of task.statements) await client.query(statement.text, statement.values)
        } catch (error) {
          failed = true
          throw new Error(`seeding step "${task.label}" failed: ${(error as Error).message}`, { cause: error })
        }
        onTaskDone(task)
      }
    }
  }
  await Promise.all(clients.map(worker))
}
