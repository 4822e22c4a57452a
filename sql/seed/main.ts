// `npm run seed -- [options]`: the seeder's command line. Exit 0 done, 1 server failure, 2 bad options.
import { CliUsageError, parseCommandLine, USAGE } from './cli-options.ts'
import { progressDisplay } from './progress-display.ts'
import { seed, SeedServerUnreachable, type SeedReport } from './seed.ts'

async function main(): Promise<number> {
  let command
  try {
    command = parseCommandLine(process.argv.slice(2), process.env)
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error
    process.stderr.write(`seed: ${error.message}\n\n${USAGE}\n`)
    return 2
  }
  if (command.kind === 'help') {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const display = progressDisplay(process.stderr)
  try {
    const report = await seed(command.options, display.update)
    display.finish()
    process.stdout.write(summary(report))
    return 0
  } catch (error) {
    display.finish()
    if (error instanceof RangeError) {
      process.stderr.write(`seed: ${error.message}\n\n${USAGE}\n`)
      return 2
    }
    if (error instanceof SeedServerUnreachable) {
      process.stderr.write(`seed: ${error.message}\n`)
      return 1
    }
    process.stderr.write(`seed: failed: ${(error as Error).message}\n`)
    return 1
  }
}

function summary(report: SeedReport): string {
  const lines = [`seeded ${report.databases.arzsw} and ${report.tenants.length} tenants in ${(report.milliseconds / 1000).toFixed(1)} s`]
  for (const t of report.tenants) {
    const p = t.prescriptions
    const n = t.newPrescriptions
    lines.push(`  ${t.database}: eMuster16 ${p.emuster16} (new ${n.emuster16}), P-Rezept ${p.prezept} (new ${n.prezept}), `
      + `E-Rezept ${p.erezept} (new ${n.erezept}); ${t.pharmacies} pharmacies, ${t.deliveries} deliveries, `
      + `${(t.bytes / 2 ** 20).toFixed(0)} MiB, ${(t.milliseconds / 1000).toFixed(1)} s`)
  }
  return `${lines.join('\n')}\n`
}

process.exitCode = await main()
