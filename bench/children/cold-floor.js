// The floor under cli.coldStart (bench/suites/cold-start.js): the least any ES-module command on
// better-sqlite3 does to print one stored value. It loads better-sqlite3 as the store does, opens
// the SQLite file given as its argument read-only, reads one connection row and prints its id.
// No library code, no argument parsing, no decryption: what is left above it is Innkeeper's own.
import { createRequire } from 'node:module'

const Database = createRequire(import.meta.url)('better-sqlite3')
const db = new Database(process.argv[2], { readonly: true })
const row = db.prepare('SELECT id FROM innkeeper_connections LIMIT 1').get()
db.close()
process.stdout.write(`${row?.id}\n`)
