// Samples a serving process while a turn runs: resident memory (VmRSS; the peak of the samples), open
// sockets (file descriptors that are sockets) and the CPU time it used (user + system, from the turn's
// start to its end). Linux /proc only; elsewhere the figures stay empty.
// CPU time per request is the figure that survives a shared machine: neighbours stretch wall-clock
// latency and throughput, but not (much) the CPU a server spends on each answer.
import { readdir, readFile, readlink } from 'node:fs/promises'

export interface ProcessPeak {
  readonly rssPeakMb: number | undefined
  readonly socketsPeak: number | undefined
  /** CPU seconds (user + system) the process used during the turn. */
  readonly cpuSeconds: number | undefined
}

// /proc/<pid>/stat counts in clock ticks; 100 per second on every Linux this runs on (USER_HZ).
const TICKS_PER_SECOND = 100

async function cpuSeconds(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces) start at its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
  } catch {
    return undefined
  }
}

/** VmRSS of the process in MB, or undefined when it is gone (or not on Linux). */
export async function rssMb(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1]
    return kb === undefined ? undefined : Number(kb) / 1024
  } catch {
    return undefined
  }
}

/** Open file descriptors of the process (sockets, files, pipes), or undefined when it is gone. */
export async function openFileDescriptors(pid: number): Promise<number | undefined> {
  try {
    return (await readdir(`/proc/${pid}/fd`)).length
  } catch {
    return undefined
  }
}

async function sockets(pid: number): Promise<number | undefined> {
  try {
    const fds = await readdir(`/proc/${pid}/fd`)
    let n = 0
    for (const fd of fds) {
      try {
        if ((await readlink(`/proc/${pid}/fd/${fd}`)).startsWith('socket:')) n++
      } catch {}
    }
    return n
  } catch {
    return undefined
  }
}

/** Starts sampling every intervalMs; stop() gives the peaks. Socket counting is costlier, so only on request. */
export function sampleProcess(pid: number | undefined, options: { intervalMs: number; countSockets: boolean }): { stop(): Promise<ProcessPeak> } {
  let rssPeak: number | undefined
  let socketsPeak: number | undefined
  let running = true
  const cpuAtStart = pid === undefined ? Promise.resolve(undefined) : cpuSeconds(pid)
  const loop = (async () => {
    while (running && pid !== undefined) {
      const rss = await rssMb(pid)
      if (rss !== undefined) rssPeak = Math.max(rssPeak ?? 0, rss)
      if (options.countSockets) {
        const n = await sockets(pid)
        if (n !== undefined) socketsPeak = Math.max(socketsPeak ?? 0, n)
      }
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs))
    }
  })()
  return {
    async stop() {
      running = false
      const [start, end] = [await cpuAtStart, pid === undefined ? undefined : await cpuSeconds(pid)]
      await loop
      return { rssPeakMb: rssPeak, socketsPeak, cpuSeconds: start === undefined || end === undefined ? undefined : end - start }
    },
  }
}
