// Figures of a run: per scenario and contender the merged turns (req/s, p50/p95/p99, errors, peak RSS),
// the ratios, the targets met or missed, and the Markdown table of it all.
import { percentile, type TurnResult } from './load.ts'
import type { ContenderId, MetricId, Operand, ScenarioSpec, TargetSpec } from './scenario-model.ts'

export interface ContenderFigures {
  readonly contender: ContenderId
  readonly requests: number
  readonly errors: number
  readonly seconds: number
  readonly rps: number
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly rssPeakMb: number | undefined
  readonly socketsPeak: number | undefined
  /** CPU milliseconds the serving process spent per request (process-sampler.ts); undefined without /proc or for the SQL floor. */
  readonly cpuMsPerRequest: number | undefined
  readonly meanBodyBytes: number
  readonly errorSamples: readonly string[]
  /** Per turn, in the order run: req/s and p50, to show drift between rounds. */
  readonly turns: ReadonlyArray<{ round: number; rps: number; p50: number; requests: number }>
  /** Mixed scenarios: the same figures per kind of request. */
  readonly byKind: ReadonlyArray<{ kind: string; requests: number; errors: number; p50: number; p95: number; p99: number }>
  /** With steadyAfterSeconds: the requests due from then on (NaN when the turn was shorter). */
  readonly steady: { readonly afterSeconds: number; readonly requests: number; readonly p95: number; readonly p99: number } | undefined
  /** With steadyAfterSeconds, of the first round (the cold one): users, users answered, when all had a first answer (ms). */
  readonly firstAnswers: { readonly users: number; readonly answered: number; readonly allAnsweredMs: number } | undefined
}

export interface TargetResult {
  readonly text: string
  readonly left: number
  readonly right: number
  readonly op: TargetSpec['op']
  readonly met: boolean | undefined
}

export interface ScenarioFigures {
  readonly id: string
  readonly title: string
  readonly issue: number
  readonly connections: number
  readonly intervalMs: number | undefined
  readonly rounds: number
  readonly turnSeconds: number
  readonly contenders: readonly ContenderFigures[]
  readonly targets: readonly TargetResult[]
  readonly loadAverage: readonly number[]
}

export interface TaggedTurn {
  readonly contender: ContenderId
  readonly round: number
  readonly result: TurnResult
  readonly rssPeakMb: number | undefined
  readonly socketsPeak: number | undefined
  readonly cpuSeconds: number | undefined
}

export function summarise(spec: ScenarioSpec, turns: readonly TaggedTurn[], loadAverage: readonly number[], intervalMs: number | undefined, connections: number, rounds: number, turnSeconds: number): ScenarioFigures {
  const contenders = spec.contenders.map((contender): ContenderFigures => {
    const mine = turns.filter((t) => t.contender === contender)
    const requests = mine.reduce((n, t) => n + t.result.requests, 0)
    const seconds = mine.reduce((n, t) => n + t.result.seconds, 0)
    const latencies = Float64Array.from(mine.flatMap((t) => [...t.result.latenciesMs])).sort()
    const peaks = mine.map((t) => t.rssPeakMb).filter((v): v is number => v !== undefined)
    const sockets = mine.map((t) => t.socketsPeak).filter((v): v is number => v !== undefined)
    const errors = mine.reduce((n, t) => n + t.result.errors, 0)
    const cpu = mine.every((t) => t.cpuSeconds !== undefined) && requests > 0 ? mine.reduce((n, t) => n + t.cpuSeconds!, 0) * 1000 / requests : undefined
    const steadyAll = Float64Array.from(mine.flatMap((t) => [...t.result.steadyLatenciesMs])).sort()
    return {
      steady: spec.steadyAfterSeconds === undefined ? undefined
        : { afterSeconds: spec.steadyAfterSeconds, requests: steadyAll.length, p95: percentile(steadyAll, 95), p99: percentile(steadyAll, 99) },
      firstAnswers: mine[0]?.result.firstAnswers,
      cpuMsPerRequest: cpu,
      contender, requests, errors, seconds, rps: seconds > 0 ? requests / seconds : 0,
      p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99),
      rssPeakMb: peaks.length ? Math.max(...peaks) : undefined, socketsPeak: sockets.length ? Math.max(...sockets) : undefined,
      meanBodyBytes: requests > errors ? Math.round(mine.reduce((n, t) => n + t.result.bytes, 0) / (requests - errors)) : 0,
      errorSamples: [...new Set(mine.flatMap((t) => t.result.errorSamples))].slice(0, 5),
      byKind: [...new Set(mine.flatMap((t) => [...t.result.byLabel.keys()]))].map((kind) => {
        const parts = mine.map((t) => t.result.byLabel.get(kind)).filter((p) => p !== undefined)
        const all = Float64Array.from(parts.flatMap((p) => [...p.latenciesMs])).sort()
        return { kind, requests: all.length, errors: parts.reduce((n, p) => n + p.errors, 0), p50: percentile(all, 50), p95: percentile(all, 95), p99: percentile(all, 99) }
      }),
      turns: mine.map((t) => ({ round: t.round, rps: t.result.requests / t.result.seconds, p50: percentile(t.result.latenciesMs, 50), requests: t.result.requests })),
    }
  })
  const value = (operand: Operand | number): number => {
    if (typeof operand === 'number') return operand
    const figures = contenders.find((c) => c.contender === operand.c)
    const raw = figures === undefined ? Number.NaN : metric(figures, operand.m)
    return raw * (operand.times ?? 1) + (operand.plus ?? 0)
  }
  const targets = spec.targets.map((target): TargetResult => {
    const left = value(target.a)
    const right = value(target.b)
    const known = Number.isFinite(left) && Number.isFinite(right)
    return { text: target.text, left, right, op: target.op, met: known ? compare(left, target.op, right) : undefined }
  })
  return { id: spec.id, title: spec.title, issue: spec.issue, connections, intervalMs, rounds, turnSeconds, contenders, targets, loadAverage }
}

function metric(figures: ContenderFigures, m: MetricId): number {
  switch (m) {
    case 'rssPeakMb': return figures.rssPeakMb ?? Number.NaN
    case 'steadyP95': return figures.steady?.p95 ?? Number.NaN
    case 'allUsersAnsweredMs': return figures.firstAnswers?.allAnsweredMs ?? Number.NaN
    default: return figures[m]
  }
}

function compare(left: number, op: TargetSpec['op'], right: number): boolean {
  switch (op) {
    case '<': return left < right
    case '<=': return left <= right
    case '>': return left > right
    case '>=': return left >= right
    case '==': return left === right
  }
}

const ms = (v: number) => (Number.isFinite(v) ? (v < 10 ? v.toFixed(2) : v.toFixed(1)) : '–')
const ratio = (v: number) => (Number.isFinite(v) && v > 0 ? `${v < 10 ? v.toFixed(2) : v.toFixed(1)}×` : '–')

export function scenarioMarkdown(s: ScenarioFigures): string {
  const sim = s.contenders.find((c) => c.contender === 'simulator')
  const floorRps = s.contenders.find((c) => c.contender === 'http-floor')?.rps
  const lines = [
    `### ${s.id}: ${s.title}`,
    '',
    `${s.connections} connections${s.intervalMs ? `, each a request every ${s.intervalMs} ms` : ' (closed loop)'}, ${s.rounds} round(s) × ${s.turnSeconds} s per contender, alternating; load average before: ${s.loadAverage.map((l) => l.toFixed(2)).join(' ')}`,
    '',
    '| contender | requests | req/s | p50 ms | p95 ms | p99 ms | errors | peak RSS MB | CPU ms per request | p50: simulator ÷ this | req/s ÷ http-floor |' + (s.contenders.some((c) => c.socketsPeak !== undefined) ? ' open sockets (peak) |' : ''),
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|' + (s.contenders.some((c) => c.socketsPeak !== undefined) ? '---:|' : ''),
  ]
  for (const c of s.contenders) {
    const vsSim = sim === undefined || c === sim ? Number.NaN : sim.p50 / c.p50
    const vsFloor = floorRps === undefined || c.contender === 'http-floor' ? Number.NaN : c.rps / floorRps
    lines.push(`| ${c.contender} | ${c.requests} | ${c.rps.toFixed(1)} | ${ms(c.p50)} | ${ms(c.p95)} | ${ms(c.p99)} | ${c.errors} | ${c.rssPeakMb === undefined ? '–' : c.rssPeakMb.toFixed(0)} | ${c.cpuMsPerRequest === undefined ? '–' : ms(c.cpuMsPerRequest)} | ${ratio(vsSim)} | ${Number.isFinite(vsFloor) ? `${(vsFloor * 100).toFixed(0)} %` : '–'} |` +
      (s.contenders.some((x) => x.socketsPeak !== undefined) ? ` ${c.socketsPeak ?? '–'} |` : ''))
  }
  if (s.contenders.some((c) => c.byKind.length > 1)) {
    lines.push('', '| contender | kind of request | requests | p50 ms | p95 ms | p99 ms | errors |', '|---|---|---:|---:|---:|---:|---:|')
    for (const c of s.contenders) for (const k of c.byKind) lines.push(`| ${c.contender} | ${k.kind} | ${k.requests} | ${ms(k.p50)} | ${ms(k.p95)} | ${ms(k.p99)} | ${k.errors} |`)
  }
  for (const c of s.contenders) {
    if (c.steady === undefined && c.firstAnswers === undefined) continue
    const parts: string[] = [`p95 over the whole run ${ms(c.p95)} ms`]
    if (c.steady !== undefined) parts.push(`steady state (requests due ≥ ${c.steady.afterSeconds} s): p95 ${ms(c.steady.p95)} ms, p99 ${ms(c.steady.p99)} ms over ${c.steady.requests} requests`)
    if (c.firstAnswers !== undefined) {
      const f = c.firstAnswers
      parts.push(f.answered === f.users ? `every one of ${f.users} users had its first answer ${(f.allAnsweredMs / 1000).toFixed(1)} s after the start`
        : `${f.users - f.answered} of ${f.users} users had no answer at all`)
    }
    lines.push('', `${c.contender}: ${parts.join('; ')}.`)
  }
  const errored = s.contenders.filter((c) => c.errorSamples.length > 0)
  if (errored.length > 0) {
    lines.push('', ...errored.map((c) => `Errors of ${c.contender}: ${c.errorSamples.join('; ')}`))
  }
  if (s.targets.length > 0) {
    lines.push('', ...s.targets.map((t) => `- ${t.met === undefined ? 'NOT MEASURED' : t.met ? 'MET' : 'MISSED'}: ${t.text} (${fmtNumber(t.left)} ${t.op} ${fmtNumber(t.right)})`))
  }
  return lines.join('\n')
}

function fmtNumber(v: number): string {
  return Number.isFinite(v) ? (Math.abs(v) < 10 ? v.toFixed(2) : v.toFixed(1)) : 'n/a'
}
