// The loader hooks of record-modules.mjs (they run on the loader's thread): each module URL
// loaded is appended to the file the main thread named.
import { appendFileSync } from 'node:fs'

let out

export function initialize(data) {
  out = data.out
}

export async function load(url, context, next) {
  appendFileSync(out, `${url}\n`)
  return next(url, context)
}
