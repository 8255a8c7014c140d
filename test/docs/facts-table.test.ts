// The table of platform facts in docs/platforms/README.md ("Every fact in the platforms'
// documents") names, per fact, the files and fields that implement it and the tests that check
// it. This test holds the table to the code: every cited file exists, every cited field or
// function appears in its file, and every cited test is a test title in its file, so a renamed
// test or a moved field fails here instead of leaving the table quietly wrong.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..', '..')
const README = readFileSync(join(ROOT, 'docs/platforms/README.md'), 'utf8')
const HEADING = "## Every fact in the platforms' documents"
const SOURCES = new Set(['000', '001', '002', '003', '004', 'PLATFORMS.md'])

interface Row {
  line: number
  fact: string
  source: string
  implemented: string
  tested: string
}

/** The rows of every table below the heading (header and separator lines skipped). */
function factRows(): Row[] {
  const start = README.indexOf(HEADING)
  if (start < 0) return []
  const offset = README.slice(0, start).split('\n').length - 1
  const rows: Row[] = []
  README.slice(start)
    .split('\n')
    .forEach((text, index) => {
      if (!text.startsWith('|') || text.startsWith('|---') || text.startsWith('| fact |')) return
      const cells = text
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim())
      const [fact = '', source = '', implemented = '', tested = ''] = cells
      rows.push({ line: offset + index + 1, fact, source, implemented, tested, ...{ cells: cells.length } })
      if (cells.length !== 4) throw new Error(`README.md:${offset + index + 1}: ${cells.length} cells, not 4`)
    })
  return rows
}

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8')
const unescapeHtml = (text: string) =>
  text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&')
/** A file's text with string escapes undone, so a title written 'it\'s' reads as "it's". */
const unescapeSource = (text: string) => text.replace(/\\(['"`\\])/g, '$1')

/** Each cited path and what follows its `›`: field names (src) or a test title (test). */
function citations(cell: string): Array<{ path: string; after?: string }> {
  const found: Array<{ path: string; after?: string }> = []
  for (const entry of cell.split('<br>')) {
    const match = /`((?:src|test|docs)\/[^`]+)`(?: › (.*))?/.exec(entry)
    if (match) found.push({ path: match[1]!, after: match[2] })
  }
  return found
}

/** Whether `title` is the title of a test in `source`: a string literal right after it(…/test(…. */
function isTestTitle(source: string, title: string): boolean {
  for (const quote of ["'", '"', '`']) {
    let at = source.indexOf(`${quote}${title}${quote}`)
    while (at >= 0) {
      if (/\b(?:it|test)(?:\.each\([\s\S]*?\)|\.\w+)*\(\s*$/.test(source.slice(Math.max(0, at - 400), at)))
        return true
      at = source.indexOf(`${quote}${title}${quote}`, at + 1)
    }
  }
  return false
}

describe('the table of platform facts in docs/platforms/README.md', () => {
  const rows = factRows()

  it('has a row per fact for every platform, each with its source', () => {
    expect(rows.length).toBeGreaterThan(60)
    for (const heading of [
      '### BookingSync',
      '### Booking Experts',
      '### bookingtime',
      '### BookyFlow',
      '### Gaps',
    ])
      expect(README).toContain(heading)
    for (const row of rows) {
      const sources = row.source.split(', ')
      expect(
        sources.every((source) => SOURCES.has(source)),
        `README.md:${row.line}: source "${row.source}"`,
      ).toBe(true)
      expect(row.fact.length, `README.md:${row.line}: no fact`).toBeGreaterThan(0)
      expect(
        row.implemented.length,
        `README.md:${row.line}: say where it is implemented, or that it is not`,
      ).toBeGreaterThan(0)
      const saysUntested = /not tested|^—$/.test(row.tested)
      expect(
        saysUntested || citations(row.tested).some((c) => c.path.startsWith('test/')),
        `README.md:${row.line}: cite a test, or say "not tested"`,
      ).toBe(true)
    }
  })

  it('names only files that exist, and fields and functions found in them', () => {
    const problems: string[] = []
    for (const row of rows) {
      for (const { path, after } of citations(row.implemented)) {
        if (!existsSync(join(ROOT, path))) {
          problems.push(`README.md:${row.line}: ${path} does not exist`)
          continue
        }
        const text = read(path)
        // `field.sub` names are checked by their last part; parenthesised notes are not names.
        const names = [...(after ?? '').replace(/\([^)]*\)/g, '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!)
        for (const name of names) {
          const last = name.split('.').at(-1)!
          if (!new RegExp(`\\b${last.replace(/[^\w]/g, '\\$&')}\\b`).test(text))
            problems.push(`README.md:${row.line}: ${path} has no ${name}`)
        }
      }
    }
    expect(problems).toEqual([])
  })

  it('cites only tests that exist, by their exact title', () => {
    const problems: string[] = []
    let cited = 0
    for (const row of rows) {
      for (const { path, after } of citations(row.tested)) {
        if (!existsSync(join(ROOT, path))) {
          problems.push(`README.md:${row.line}: ${path} does not exist`)
          continue
        }
        if (!path.startsWith('test/')) continue
        // A note after the title follows " — ".
        const title = unescapeHtml((after ?? '').split(' — ')[0]!.trim())
        if (!title) {
          problems.push(`README.md:${row.line}: ${path} cited without a test title`)
          continue
        }
        cited++
        if (!isTestTitle(unescapeSource(read(path)), title))
          problems.push(`README.md:${row.line}: ${path} has no test "${title}"`)
      }
    }
    expect(problems).toEqual([])
    expect(cited).toBeGreaterThan(100)
  })
})
