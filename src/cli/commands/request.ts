// `innkeeper request <conn> <METHOD> <path>`: an authenticated call with the provider's headers and
// placeholders; with `--no-auth`, a call without a token (the platform's auth-free endpoints),
// for which `<app>` alone needs no connection. Prints the body (pretty JSON on a terminal, as
// received when piped); on an HTTP error, exits non-zero with the platform's own message on stderr.
import { readFileSync } from 'node:fs'
import type { Command } from 'commander'
import { ConfigError, InnkeeperError, isInnkeeperError } from '../../errors.js'
import { readBody } from '../../oauth/body.js'
import { apiError } from '../../oauth/errors.js'
import { getProvider } from '../../providers/registry.js'
import { withKeeper } from '../keeper.js'
import { isTerminal } from '../output.js'

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

function pairs(values: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const value of values ?? []) {
    const equals = value.indexOf('=')
    if (equals <= 0) throw new ConfigError('invalid_config', `${flag} takes key=value, not "${value}".`)
    out[value.slice(0, equals)] = value.slice(equals + 1)
  }
  return out
}

function headerPairs(values: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const value of values ?? []) {
    const colon = value.indexOf(':')
    if (colon <= 0) throw new ConfigError('invalid_config', `--header takes "Name: value", not "${value}".`)
    out[value.slice(0, colon).trim()] = value.slice(colon + 1).trim()
  }
  return out
}

/** `--data '{"a":1}'` or `--data @file.json` (`@-` reads stdin); must be JSON. */
function readData(data: string | undefined): unknown {
  if (data === undefined) return undefined
  let text = data
  if (data.startsWith('@')) {
    const path = data.slice(1)
    try {
      text = readFileSync(path === '-' ? 0 : path, 'utf8')
    } catch (error) {
      throw new ConfigError(
        'invalid_config',
        `--data ${data}: the file could not be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`,
      )
    }
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new ConfigError(
      'invalid_config',
      `--data must be JSON (or @file with JSON); "${data.slice(0, 40)}" is not.`,
    )
  }
}

/** A missing connection may just mean the endpoint needs none: say how to call it without one. */
function withNoAuthHint(error: unknown, auth: boolean): unknown {
  if (!isInnkeeperError(error) || error.code !== 'unknown_connection' || !auth) return error
  return new InnkeeperError(
    'unknown_connection',
    `${error.message} For the platform's auth-free endpoints, add --no-auth and give the app alone: no connection is needed.`,
    { cause: error },
  )
}

interface RequestFlags {
  data?: string
  param?: string[]
  query?: string[]
  header?: string[]
  /** `--no-auth` sets this to false. */
  auth: boolean
}

export function registerRequest(program: Command): void {
  program
    .command('request')
    .description('make an authenticated API call and print the answer')
    .argument('<connection>', '<app>/<name>, or <app> for <app>/main')
    .argument('<method>', METHODS.join(', '))
    .argument('<path>', 'path under the API base URL, with @name or {name} placeholders')
    .option('--data <json>', 'JSON body, or @file to read it from a file (@- for stdin)')
    .option('--param <key=value>', 'fill a path placeholder (repeatable)', collect)
    .option('--query <key=value>', 'add a query parameter (repeatable)', collect)
    .option('--header <name: value>', 'add a header (repeatable)', collect)
    .option('--no-auth', 'send no token (auth-free endpoints); <app> alone then needs no connection')
    .addHelpText(
      'after',
      `
Examples:
  innkeeper request smily/main GET /rentals
  innkeeper request bf/main GET /properties/@id --param id=12 --query from=2025-07-01
  innkeeper request bf/main POST /bookings --data @booking.json
  innkeeper request bf GET /status --no-auth     # auth-free endpoint, no connection needed`,
    )
    .action(async (id: string, methodArg: string, path: string, flags: RequestFlags, command: Command) => {
      const method = methodArg.toUpperCase()
      if (!METHODS.includes(method)) {
        throw new ConfigError(
          'invalid_config',
          `"${methodArg}" is not an HTTP method; use one of ${METHODS.join(', ')}.`,
        )
      }
      const json = readData(flags.data)
      const init = {
        method,
        json,
        params: pairs(flags.param, '--param'),
        query: pairs(flags.query, '--query'),
        headers: headerPairs(flags.header),
      }
      const { response, body, provider } = await withKeeper(command, async (keeper) => {
        let answer: Response
        let providerName: string
        if (!flags.auth && !id.includes('/')) {
          // The app alone: auth-free endpoints are reachable with only its base URL.
          providerName = getProvider((await keeper.apps.get(id)).provider).displayName
          answer = await keeper.app(id).fetch(path, init)
        } else {
          const connection = keeper.connection(id)
          const info = await connection.info().catch((error: unknown) => {
            throw withNoAuthHint(error, flags.auth)
          })
          providerName = getProvider(info.provider).displayName
          answer = await connection.fetch(path, { ...init, auth: flags.auth })
        }
        return { response: answer, body: await readBody(answer, 64 * 1024 * 1024), provider: providerName }
      })
      if (!response.ok) {
        throw apiError(response, body.json, body.text, {
          provider,
          method,
          path: new URL(response.url || 'http://x/').pathname || path,
          secrets: [],
          now: Date.now(),
        })
      }
      if (!body.text) return
      const isJson = /json/i.test(response.headers.get('content-type') ?? '')
      if (isJson && isTerminal()) {
        try {
          process.stdout.write(`${JSON.stringify(JSON.parse(body.text), null, 2)}\n`)
          return
        } catch {
          // Not JSON after all: print it as it came.
        }
      }
      process.stdout.write(body.text.endsWith('\n') || !isTerminal() ? body.text : `${body.text}\n`)
    })
}
