// `innkeeper open`: the URL of the dashboard (or the audit page, or a connection's page) of the
// service at --url, INNKEEPER_PUBLIC_URL or http://127.0.0.1:4180; printed where no browser can be
// opened or with --print, handed to the system's opener on a terminal with a display.
import { spawn } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { CLI, type Home, makeHome } from '../support/cli.js'

let home: Home
afterEach(() => home?.close())

describe('innkeeper open', () => {
  it('prints the dashboard URL where no browser can be opened (CI, a pipe)', async () => {
    home = makeHome()
    const result = await home.run(['open'])
    expect(result).toMatchObject({ code: 0, stdout: 'http://127.0.0.1:4180/\n' })
  })

  it('takes the service URL from --url or INNKEEPER_PUBLIC_URL, and a page to open', async () => {
    home = makeHome()
    expect((await home.run(['open', 'audit', '--url', 'https://keys.example.com/innkeeper'])).stdout).toBe(
      'https://keys.example.com/innkeeper/audit\n',
    )
    home.env.INNKEEPER_PUBLIC_URL = 'https://keys.example.com'
    expect((await home.run(['open', 'smily'])).stdout).toBe(
      'https://keys.example.com/connections/smily/main\n',
    )
    expect((await home.run(['open', 'acme/other house', '--print'])).stdout).toBe(
      'https://keys.example.com/connections/acme/other%20house\n',
    )
  })

  it('refuses a service URL that is not http(s) or carries credentials, and a malformed connection id', async () => {
    home = makeHome()
    const notHttp = await home.run(['open', '--url', 'ftp://keys.example.com'])
    expect(notHttp.code).toBe(2)
    expect(notHttp.stderr).toContain('http:// or https://')
    const withPassword = await home.run(['open', '--url', 'https://ops:hunter2@keys.example.com'])
    expect(withPassword.code).toBe(2)
    expect(withPassword.stdout + withPassword.stderr).not.toContain('hunter2')
    expect((await home.run(['open', 'a/b/c'])).code).toBe(2)
  })

  it.runIf(existsSync('/usr/bin/script'))(
    'hands the URL to the system opener on a terminal with a display, and prints it with --print',
    async () => {
      home = makeHome()
      // A stand-in for xdg-open that writes down what it was asked to open.
      const bin = join(home.dir, 'bin')
      const opened = join(home.dir, 'opened.txt')
      mkdirSync(bin)
      writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$1" >> '${opened}'\n`)
      chmodSync(join(bin, 'xdg-open'), 0o755)
      const env: NodeJS.ProcessEnv = { ...home.env, PATH: `${bin}:${process.env.PATH}`, DISPLAY: ':99' }
      delete env.CI
      delete env.INNKEEPER_NO_BROWSER
      // `script` gives the command a terminal, as a person's shell would.
      const inTerminal = (args: string) =>
        new Promise<string>((resolve, reject) => {
          const child = spawn(
            'script',
            ['-qec', `'${process.execPath}' '${CLI}' open ${args}`, '/dev/null'],
            {
              env,
              cwd: home.dir,
            },
          )
          let output = ''
          child.stdout.on('data', (chunk) => {
            output += String(chunk)
          })
          child.on('error', reject)
          child.on('close', (code) =>
            code === 0 ? resolve(output) : reject(new Error(`exit ${code}: ${output}`)),
          )
        })
      const said = await inTerminal('acme/main --url http://127.0.0.1:4999')
      expect(said).toContain('Opened http://127.0.0.1:4999/connections/acme/main in your browser.')
      await expect
        .poll(() => (existsSync(opened) ? readFileSync(opened, 'utf8') : ''), { timeout: 60_000 })
        .toBe('http://127.0.0.1:4999/connections/acme/main\n')
      const printed = await inTerminal('--print --url http://127.0.0.1:4999')
      expect(printed.trim()).toBe('http://127.0.0.1:4999/')
      expect(readFileSync(opened, 'utf8')).toBe('http://127.0.0.1:4999/connections/acme/main\n')
    },
  )
})
