// The one way tests run the built CLI (`node dist/cli/main.js …`) as a separate OS process, with
// real stdin/stdout:
// - `makeHome()`: a person or script in their own INNKEEPER_HOME and SQLite store, against
//   emulators in this process, with a transcript of every byte printed (to check no secret shows);
// - `runCli(args, cliEnv({...}))`: one run in an environment with only the Innkeeper variables
//   a test sets (the operations tests).
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { EmulatorHandle } from '../../src/emulators/index.js'

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface Running {
  child: ChildProcessWithoutNullStreams
  /** The first line of stdout (the authorization URL of `connect`). */
  firstLine: Promise<string>
  done: Promise<CliResult>
}

/** Starts the CLI; `done` resolves when it exits (and rejects when it could not be started). */
export function startCli(args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string }): Running {
  const child = spawn(process.execPath, [CLI, ...args], { env: options.env, cwd: options.cwd })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8')
  child.stderr.setEncoding('utf8')
  const firstLine = new Promise<string>((resolveLine, reject) => {
    const lines = createInterface({ input: child.stdout })
    lines.once('line', resolveLine)
    lines.once('close', () => reject(new Error(`no stdout line; stderr: ${stderr}`)))
  })
  firstLine.catch(() => {})
  child.stdout.on('data', (chunk: string) => {
    stdout += chunk
  })
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk
  })
  const done = new Promise<CliResult>((resolveDone, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolveDone({ code, stdout, stderr }))
  })
  return { child, firstLine, done }
}

/** The parent's environment without any INNKEEPER_* variable, plus `extra`. */
export function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env))
    if (!name.startsWith('INNKEEPER_')) env[name] = value
  return { ...env, NO_COLOR: '1', ...extra }
}

/** One run: `input` on stdin, the exit code and output as text. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<CliResult> {
  const running = startCli(args, { env })
  running.child.stdin.end(input)
  return running.done
}

export interface Home {
  dir: string
  env: NodeJS.ProcessEnv
  /** Every byte the CLI printed in this home, to check that no secret ever showed. */
  transcript: string[]
  run(args: string[], input?: string): Promise<CliResult>
  start(args: string[]): Running
  close(): void
}

export function makeHome(): Home {
  const dir = mkdtempSync(join(tmpdir(), 'innkeeper-cli-'))
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    INNKEEPER_HOME: dir,
    INNKEEPER_STORE: `sqlite:${join(dir, 'k.db')}`,
    NO_COLOR: '1',
    CI: '1',
  }
  delete env.INNKEEPER_KEYS
  delete env.INNKEEPER_KEY_FILE
  const transcript: string[] = []
  const start = (args: string[]): Running => {
    const running = startCli(args, { env, cwd: dir })
    const done = running.done.then((result) => {
      transcript.push(result.stdout, result.stderr)
      return result
    })
    return { ...running, done }
  }
  return {
    dir,
    env,
    transcript,
    start,
    run(args, input) {
      const running = start(args)
      running.child.stdin.end(input ?? '')
      return running.done
    },
    close: () => rmSync(dir, { recursive: true, force: true }),
  }
}

/** `apps add` arguments pointing a provider at an emulator; the secret goes on stdin. */
export function addAppArgs(app: string, provider: string, emulator: EmulatorHandle, extra: string[] = []) {
  const { info } = emulator
  const urls = info.baseUrl
    ? ['--base-url', info.baseUrl]
    : [
        '--authorize-url',
        info.authorizeUrl ?? '',
        '--token-url',
        info.tokenUrl,
        '--api-url',
        info.apiUrl,
        ...(info.revokeUrl ? ['--revoke-url', info.revokeUrl] : []),
      ]
  return {
    args: [
      'apps',
      'add',
      app,
      '--provider',
      provider,
      '--client-id',
      info.clientId,
      '--client-secret-stdin',
      ...urls,
      ...extra,
    ],
    input: `${info.clientSecret}\n`,
  }
}

export async function addApp(
  home: Home,
  app: string,
  provider: string,
  emulator: EmulatorHandle,
  extra: string[] = [],
) {
  const { args, input } = addAppArgs(app, provider, emulator, extra)
  const result = await home.run(args, input)
  if (result.code !== 0) throw new Error(`apps add failed: ${result.stderr}`)
  return result
}
