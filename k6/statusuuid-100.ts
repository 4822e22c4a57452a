// k6 run k6/statusuuid-100.ts — the "statusuuid-100" scenario of bench/scenarios.json; environment in k6/README.md.
import type { ScenarioFile } from '../bench/scenario-model.ts'
import { iteration, optionsFor, scenarioOf } from './lib/run.ts'

const file = JSON.parse(open('../bench/scenarios.json')) as ScenarioFile
const spec = scenarioOf(file, 'statusuuid-100')
export const options = optionsFor(spec)

export default function (): void {
  iteration(file, spec)
}
