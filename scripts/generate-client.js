// Writes src/client/schema.ts, the TypeScript types of the service's OpenAPI document, with
// openapi-typescript. Reads the built document (dist/server/openapi.js): `npm run generate:client`
// builds first. `--out <file>` writes elsewhere (the up-to-date test compares such a fresh copy).
import { writeFile } from 'node:fs/promises'
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript'
import { openApiDocument } from '../dist/server/openapi.js'

const out =
  process.argv[2] === '--out' && process.argv[3]
    ? process.argv[3]
    : new URL('../src/client/schema.ts', import.meta.url)

// The server URL is not part of the types; any placeholder gives the same file.
const ast = await openapiTS(openApiDocument('http://localhost:4180'))
const header =
  '// The types of the Innkeeper service API (paths, operations, schemas), generated from\n' +
  '// src/server/openapi.ts by `npm run generate:client`. Do not edit: change the document and regenerate.\n'
await writeFile(out, header + COMMENT_HEADER + astToString(ast))
