// `npm run legacy-sim`: reads and validates the options once, starts the simulator, stops it on SIGINT/SIGTERM.
import { parseSimulatorConfig } from './simulator-config.ts'
import { startLegacySim } from './server.ts'

let config
try {
  config = parseSimulatorConfig(process.argv.slice(2), process.env)
} catch (error) {
  console.error(`legacy-sim: ${(error as Error).message}`)
  process.exit(2)
}
const sim = await startLegacySim(config)
console.log(`legacy-sim (stand-in for ArzTi3Server) listening on ${sim.url} — maxPageSize ${config.maxPageSize}, environment ${config.environment}`)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    sim.close().then(() => process.exit(0), () => process.exit(1))
  })
}
