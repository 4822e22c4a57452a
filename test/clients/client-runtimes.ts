// The three client programs and the Debian packages their runtimes come from: how to check that a
// runtime is usable, how to build (C#) and how to run each against a base URL.
import { execFile } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const HERE = import.meta.dirname

export interface ClientRuntime {
  readonly language: 'python' | 'php' | 'csharp'
  /** Null when usable; otherwise what is missing, naming the Debian package that provides it. */
  missing(): Promise<string | null>
  /** The command line that runs the client (after building it where needed). */
  prepare(): Promise<readonly [string, ...string[]]>
}

export interface ClientRun {
  readonly transcript: string
  /** `server-timing METHOD PATH VALUE` lines, one per call. */
  readonly timings: readonly string[]
}

async function succeeds(command: string, args: readonly string[]): Promise<boolean> {
  try {
    await run(command, args)
    return true
  } catch {
    return false
  }
}

// Debian's python3 and its python3-requests, not whatever python3 comes first on PATH.
const PYTHON = '/usr/bin/python3'

export const CLIENT_RUNTIMES: readonly ClientRuntime[] = [
  {
    language: 'python',
    async missing() {
      if (!(await succeeds(PYTHON, ['-c', 'import requests']))) return `${PYTHON} cannot import requests: apt-get install python3-requests`
      return null
    },
    async prepare() {
      return [PYTHON, join(HERE, 'python', 'arz_client.py')]
    },
  },
  {
    language: 'php',
    async missing() {
      if (!(await succeeds('php', ['-v']))) return 'no php command: apt-get install php-cli'
      if (!(await succeeds('php', ['-r', 'exit(function_exists("curl_init") ? 0 : 1);']))) return 'php has no curl extension: apt-get install php-curl'
      return null
    },
    async prepare() {
      return ['php', join(HERE, 'php', 'arz_client.php')]
    },
  },
  {
    language: 'csharp',
    async missing() {
      if (!(await succeeds('mcs', ['--version']))) return 'no mcs compiler: apt-get install mono-devel'
      if (!(await succeeds('mono', ['--version']))) return 'no mono runtime: apt-get install mono-devel'
      return null
    },
    async prepare() {
      const out = join(await mkdtemp(join(tmpdir(), 't-cli-csharp-')), 'ArzClient.exe')
      try {
        await run('mcs', ['-r:System.Net.Http.dll', '-r:System.Runtime.Serialization.dll', '-r:System.Xml.Linq.dll', `-out:${out}`, join(HERE, 'csharp', 'ArzClient.cs')])
      } catch (error) {
        throw new Error(`mcs could not build ArzClient.cs (System.Net.Http comes with mono-devel): ${(error as Error).message}`)
      }
      return ['mono', out]
    },
  },
]

/** Runs a client against `baseUrl`; the credentials go in the environment, not the process list. */
export async function runClient(command: readonly [string, ...string[]], baseUrl: string, login: string, password: string): Promise<ClientRun> {
  const [file, ...args] = command
  const { stdout, stderr } = await run(file, args, {
    env: { ...process.env, ARZ_BASE_URL: baseUrl, ARZ_LOGIN: login, ARZ_PASSWORD: password },
    maxBuffer: 256 * 1024 * 1024,
    timeout: 120_000,
  })
  return { transcript: stdout, timings: stderr.split('\n').filter((line) => line.startsWith('server-timing ')) }
}
