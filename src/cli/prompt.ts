// Reading from standard input: one line (a pasted code), or a secret without echo on a terminal.
// Reads stop at the first line so that a script can keep writing after it.
import { createInterface } from 'node:readline'
import { InnkeeperError } from '../errors.js'

/** One line from stdin (trimmed); `question` is shown on stderr only when stdin is a terminal. */
export function readLine(question?: string): Promise<string> {
  if (question && process.stdin.isTTY) process.stderr.write(question)
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: process.stdin, terminal: false })
    let answered = false
    lines.once('line', (line) => {
      answered = true
      lines.close()
      process.stdin.pause()
      resolve(line.trim())
    })
    lines.once('close', () => {
      if (!answered)
        reject(new InnkeeperError('invalid_config', 'Standard input ended before a line was given.'))
    })
  })
}

/** A secret: typed without echo on a terminal, or the first line of piped input. */
export async function readSecret(question: string): Promise<string> {
  const stdin = process.stdin
  if (!stdin.isTTY) return readLine()
  process.stderr.write(question)
  stdin.setRawMode(true)
  stdin.resume()
  stdin.setEncoding('utf8')
  return new Promise((resolve, reject) => {
    let value = ''
    const done = (error?: Error) => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write('\n')
      if (error) reject(error)
      else resolve(value.trim())
    }
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n' || char === '\u0004') return done()
        if (char === '\u0003') return done(new InnkeeperError('invalid_config', 'Cancelled.'))
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1)
        else value += char
      }
    }
    stdin.on('data', onData)
  })
}
