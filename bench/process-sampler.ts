// Samples a serving process while a turn runs: resident memory (VmRSS; the peak of the samples) and open
// sockets (file descriptors that are sockets). Linux /proc only; elsewhere the figures stay empty.
import { readdir, readFile, readlink } from 'node:fs/promises'

export interface ProcessPeak {
  readonly rssPeakMb: number | undefined
  readonly socketsPeak: number | undefined
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
      await loop
      return { rssPeakMb: rssPeak, socketsPeak }
    },
  }
}
