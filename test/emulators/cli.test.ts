// `innkeeper emulate all --json` as a child process: the first stdout line is the contract JSON,
// its token endpoints answer, and SIGTERM ends it cleanly with exit code 0.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  EMULATOR_PLATFORMS,
  type EmulatorDescription,
  type EmulatorStatsSnapshot,
  emulatorNames,
} from '../../src/emulators/index.js'
import { postForm } from './http.js'

const CLI = 'dist/cli/main.js'
let child: ChildProcess | undefined

beforeAll(() => {
  // The global setup builds dist/; build here only when run without it. tsc emits even when
  // another part of the tree has type errors, so its exit status is not what matters.
  if (!existsSync(CLI)) {
    try {
      execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'ignore' })
    } catch {}
    execFileSync(process.execPath, ['scripts/build-cli.js'], { stdio: 'ignore' })
  }
}, 120_000)

afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL')
})

function firstLine(process: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: process.stdout! })
    let stderr = ''
    process.stderr!.on('data', (chunk) => {
      stderr += String(chunk)
    })
    lines.once('line', (line) => resolve(line))
    process.once('exit', (code) => reject(new Error(`exited with ${code} before printing: ${stderr}`)))
  })
}

describe('innkeeper emulate', () => {
  it('prints one JSON object keyed by platform, serves, and exits 0 on SIGTERM', async () => {
    child = spawn(process.execPath, [CLI, 'emulate', 'all', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
    const description = JSON.parse(await firstLine(child)) as EmulatorDescription
    expect(Object.keys(description)).toEqual(EMULATOR_PLATFORMS)
    const { bookingsync, bookyflow, bookingtime, bookingexperts } = description
    expect(bookingsync).toMatchObject({
      authorizeUrl: expect.any(String),
      tokenUrl: expect.any(String),
      apiUrl: expect.any(String),
      adminUrl: expect.any(String),
    })
    expect(bookingexperts?.apiUrl).toBeTruthy()
    expect(bookyflow?.baseUrl).toBeTruthy()
    expect(bookingtime).toMatchObject({
      organizationId: expect.any(String),
      moduleClientId: expect.any(String),
    })

    const answer = await postForm(bookyflow!.tokenUrl, {
      grant_type: 'client_credentials',
      client_id: bookyflow!.clientId,
      client_secret: bookyflow!.clientSecret,
      scope: 'read',
    })
    expect(answer.status).toBe(200)
    const stats = (await (await fetch(`${bookyflow!.adminUrl}/stats`)).json()) as EmulatorStatsSnapshot
    expect(stats.tokenRequests.client_credentials).toBe(1)

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })

  it('accepts smily as bookingsync and prints for a person without --json', async () => {
    child = spawn(process.execPath, [CLI, 'emulate', 'smily'], { stdio: ['ignore', 'pipe', 'pipe'] })
    expect(await firstLine(child)).toBe('BookingSync (Smily) emulator')
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)))
    child.kill('SIGINT')
    expect(await exited).toBe(0)
  })

  it('starts a realistic profile: --latency 150 --jitter 50 --rate-limit 20', async () => {
    child = spawn(
      process.execPath,
      [CLI, 'emulate', 'smily', '--json', '--latency', '150', '--jitter', '50', '--rate-limit', '20'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    const { bookingsync } = JSON.parse(await firstLine(child)) as EmulatorDescription
    const config = (await (await fetch(`${bookingsync!.adminUrl}/config`)).json()) as Record<string, unknown>
    expect(config).toMatchObject({ latencyMs: 150, latencyJitterMs: 50, tokenRequestsPerSecond: 20 })
    const exited = new Promise((resolve) => child!.once('exit', resolve))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })

  it('refuses an unknown platform with a usage error that lists the choices', () => {
    let status = 0
    let stderr = ''
    try {
      execFileSync(process.execPath, [CLI, 'emulate', 'airbnb'], { stdio: 'pipe' })
    } catch (error) {
      status = (error as { status: number }).status
      stderr = String((error as { stderr: Buffer }).stderr)
    }
    expect(status).toBe(2)
    expect(stderr).toContain(`Choose from: ${emulatorNames().join(', ')}.`)
  })
})
