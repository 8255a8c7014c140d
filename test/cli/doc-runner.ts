// Runs the `sh` blocks of a doc page against emulators, so the docs cannot rot. Every command line
// must be one of: `innkeeper …`, `printf '%s\n' "$VAR" | innkeeper …`, `innkeeper … </dev/null`,
// or `curl …` (with `$(innkeeper …)` substitutions); anything else fails the test.
// The only deviations from what a person types: real platform URLs are rewritten to the
// emulator's, `apps add` gets the emulator's endpoints appended, and the runner plays the person
// at the consent page (approving, pasting the code, following the redirect).
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import type { CliResult, Home } from '../support/cli.js'
import { answerConsent } from '../support/consent.js'

export interface DocContext {
  home: Home
  vars: Record<string, string>
  /** Real URL prefix → emulator URL prefix. */
  rewrites: Record<string, string>
  /** Appended to every `innkeeper apps add` (the emulator's endpoints). */
  appsAddExtra: string[]
  /** The URL the last `connect … </dev/null` printed (for `$CODE`). */
  lastAuthorizationUrl?: string
}

/** The command lines of every ```sh block, `\` continuations joined, comments dropped. */
export function shellLines(markdown: string): string[] {
  const lines: string[] = []
  for (const block of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const joined = (block[1] ?? '').replace(/\\\n\s*/g, '')
    for (const line of joined.split('\n')) {
      const trimmed = line.trim()
      if (trimmed && !trimmed.startsWith('#')) lines.push(trimmed)
    }
  }
  return lines
}

export function readDoc(path: string): string[] {
  return shellLines(readFileSync(path, 'utf8'))
}

type Word = { text: string; quoted: boolean }

/** Splits a line into shell words, expanding `$VAR`, `${VAR}` and `$(…)`; stops at an unquoted `#`. */
async function words(line: string, ctx: DocContext): Promise<Word[]> {
  const out: Word[] = []
  let i = 0
  const expandAt = async (): Promise<string> => {
    if (line[i + 1] === '(') {
      let depth = 0
      let j = i + 1
      for (; j < line.length; j++) {
        if (line[j] === '(') depth++
        else if (line[j] === ')' && --depth === 0) break
      }
      const inner = line.slice(i + 2, j)
      i = j + 1
      const result = await runLine(inner, ctx)
      return result.stdout.trim()
    }
    const match = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/.exec(line.slice(i))
    if (!match) {
      i++
      return '$'
    }
    i += match[0].length
    const value = ctx.vars[match[1]!]
    if (value === undefined) throw new Error(`The docs use $${match[1]}, which the test does not define.`)
    return value
  }
  while (i < line.length) {
    while (line[i] === ' ') i++
    if (i >= line.length) break
    if (line[i] === '#') break
    let text = ''
    let quoted = false
    while (i < line.length && line[i] !== ' ') {
      const c = line[i]!
      if (c === "'") {
        const end = line.indexOf("'", i + 1)
        text += line.slice(i + 1, end)
        i = end + 1
        quoted = true
      } else if (c === '"') {
        quoted = true
        i++
        while (line[i] !== '"') {
          if (line[i] === '$') text += await expandAt()
          else if (line[i] === '\\') {
            text += line[i + 1]
            i += 2
          } else text += line[i++]
        }
        i++
      } else if (c === '$') {
        text += await expandAt()
      } else {
        text += c
        i++
      }
    }
    out.push({ text, quoted })
  }
  return out
}

function rewrite(value: string, ctx: DocContext): string {
  let out = value
  for (const [from, to] of Object.entries(ctx.rewrites)) out = out.split(from).join(to)
  return out
}

/** Runs one command line; throws unless it did what the docs promise. */
export async function runLine(line: string, ctx: DocContext): Promise<CliResult> {
  const all = await words(line, ctx)
  const pipe = all.findIndex((word) => word.text === '|' && !word.quoted)
  let input: string | undefined
  let command = all
  if (pipe >= 0) {
    const source = all.slice(0, pipe).map((word) => word.text)
    if (source[0] !== 'printf' || source.length !== 3)
      throw new Error(`Unsupported pipe in the docs: ${line}`)
    input = source[1]!.replace('%s', source[2]!).replace('\\n', '\n')
    command = all.slice(pipe + 1)
  }
  let args = command.map((word) => rewrite(word.text, ctx))
  const devNull = args.at(-1) === '</dev/null'
  if (devNull) args = args.slice(0, -1)
  const [program, ...rest] = args
  if (program === 'curl') {
    const { stdout } = await promisify(execFile)('curl', rest)
    return { code: 0, stdout, stderr: '' }
  }
  if (program !== 'innkeeper') throw new Error(`The docs show a command the test cannot run: ${line}`)
  if (rest[0] === 'apps' && rest[1] === 'add') rest.push(...ctx.appsAddExtra)
  // A connect with a code or an API key completes at once: no consent page to play.
  if (rest[0] !== 'connect' || rest.includes('--code') || rest.includes('--api-key-stdin')) {
    return expectOk(line, await ctx.home.run(rest, input))
  }
  const running = ctx.home.start(rest)
  if (devNull) {
    running.child.stdin.end()
    ctx.lastAuthorizationUrl = await running.firstLine
    const result = await running.done
    if (result.code !== 2) throw new Error(`${line} exited ${result.code}: ${result.stderr}`)
    return result
  }
  const first = await running.firstLine.catch(() => '')
  if (/^https?:\/\//.test(first)) {
    const consent = await answerConsent(first)
    if (rest.includes('--listen')) {
      await (await fetch(consent.location!)).text()
      running.child.stdin.end()
    } else {
      // The person pastes the code shown (or the code in the address the browser landed on).
      running.child.stdin.end(`${consent.code ?? consent.location}\n`)
    }
  } else {
    running.child.stdin.end()
  }
  return expectOk(line, await running.done)
}

/** `$CODE` in the docs: the code a person copies after approving the last printed URL. */
async function codeForLastAuthorization(ctx: DocContext): Promise<string> {
  if (!ctx.lastAuthorizationUrl) throw new Error('The docs use $CODE before printing an authorization URL.')
  const consent = await answerConsent(ctx.lastAuthorizationUrl)
  return consent.code!
}

function expectOk(line: string, result: CliResult): CliResult {
  if (result.code !== 0) throw new Error(`${line}\nexited ${result.code}: ${result.stderr}`)
  return result
}

export async function runDoc(path: string, ctx: DocContext): Promise<CliResult[]> {
  const results: CliResult[] = []
  for (const line of readDoc(path)) {
    if (line.includes('$CODE')) ctx.vars.CODE = await codeForLastAuthorization(ctx)
    results.push(await runLine(line, ctx))
  }
  return results
}
