// `/openapi.json` is a valid OpenAPI 3.1 document (checked by @readme/openapi-parser) and describes
// exactly the routes the server registers under `/api` and `/proxy`, with the operations routes:
// a route added without its description fails here, naming its method and path.
import { compileErrors, validate } from '@readme/openapi-parser'
import { afterEach, describe, expect, it } from 'vitest'
import { registeredRoutes } from '../../src/server/route-list.js'
import { json, type ServerFixture, startServer } from './support.js'

let f: ServerFixture
afterEach(async () => f?.close())

const OPERATION_METHODS = ['get', 'head', 'post', 'put', 'patch', 'delete', 'options', 'trace']
const OPERATIONS_ROUTES = ['/healthz', '/readyz', '/metrics', '/openapi.json']

/** `/api/connections/:id` → `/api/connections/{id}`; the proxy's `*` is its `{path}`. */
function openApiPath(fastifyUrl: string): string {
  return fastifyUrl.replace(/:(\w+)/g, '{$1}').replace(/\/\*$/, '/{path}')
}

/**
 * `GET /api/webhooks`-style names of the routes programs call, as the server registered them:
 * `all` of them, and those that must be `described` (Fastify answers HEAD for every GET by
 * itself; only a HEAD of its own needs a description).
 */
function servedOperations(f: ServerFixture): { all: Set<string>; described: Set<string> } {
  const routes = registeredRoutes(f.server)
    .map((route) => ({ method: route.method, path: openApiPath(route.url) }))
    .filter(
      (route) =>
        route.path.startsWith('/api/') ||
        route.path === '/api' ||
        route.path.startsWith('/proxy/') ||
        OPERATIONS_ROUTES.includes(route.path),
    )
  const hasGet = new Set(routes.filter((route) => route.method === 'GET').map((route) => route.path))
  const name = (route: { method: string; path: string }) => `${route.method} ${route.path}`
  return {
    all: new Set(routes.map(name)),
    described: new Set(
      routes.filter((route) => !(route.method === 'HEAD' && hasGet.has(route.path))).map(name),
    ),
  }
}

function documentedOperations(document: Json): Set<string> {
  const operations = new Set<string>()
  for (const [path, item] of Object.entries<Record<string, unknown>>(document.paths)) {
    for (const method of OPERATION_METHODS) {
      if (item[method]) operations.add(`${method.toUpperCase()} ${path}`)
    }
  }
  return operations
}

// biome-ignore lint/suspicious/noExplicitAny: the document is walked as plain JSON
type Json = any

describe('/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    f = await startServer('bookingsync')
    const answer = await fetch(`${f.baseUrl}/openapi.json`)
    expect(answer.status).toBe(200)
    const document = await json(answer)
    expect(document.openapi).toBe('3.1.0')
    expect(document.servers).toEqual([{ url: f.baseUrl }])
    const result = await validate(structuredClone(document))
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true)
    expect(result.warnings).toEqual([])
  })

  it('describes every route under /api and /proxy the server registers, and no other', async () => {
    f = await startServer('bookingsync')
    const document = await json(await fetch(`${f.baseUrl}/openapi.json`))
    const served = servedOperations(f)
    const documented = documentedOperations(document)
    expect(served.described).toContain('GET /api/webhooks')
    expect(served.described).toContain('POST /proxy/{app}/{name}/{path}')
    const undocumented = [...served.described].filter((operation) => !documented.has(operation))
    const notServed = [...documented].filter((operation) => !served.all.has(operation))
    expect(undocumented, 'routes missing from src/server/openapi.ts').toEqual([])
    expect(notServed, 'documented operations the server does not have').toEqual([])
  })

  it('gives every API operation an id, a success answer and its errors in the { error: { code, message } } shape', async () => {
    f = await startServer('bookingsync')
    const document = await json(await fetch(`${f.baseUrl}/openapi.json`))
    expect(document.components.schemas.Error.properties.error.required).toEqual(['code', 'message'])
    const operationIds = new Set<string>()
    for (const [path, item] of Object.entries<Json>(document.paths)) {
      for (const method of OPERATION_METHODS) {
        const operation = item[method]
        if (!operation) continue
        const name = `${method.toUpperCase()} ${path}`
        expect(operation.operationId, name).toEqual(expect.any(String))
        expect(operationIds.has(operation.operationId), name).toBe(false)
        operationIds.add(operation.operationId)
        const statuses = Object.keys(operation.responses)
        expect(
          statuses.some((status) => /^2\d\d$/.test(status) || status === 'default'),
          name,
        ).toBe(true)
        for (const status of statuses.filter((status) => /^[45]\d\d$/.test(status))) {
          expect(operation.responses[status].content['application/json'].schema, `${name} ${status}`).toEqual(
            {
              $ref: '#/components/schemas/Error',
            },
          )
        }
        if (path.startsWith('/api/') || path.startsWith('/proxy/')) {
          expect(statuses, name).toEqual(expect.arrayContaining(['401', '429']))
        }
      }
    }
  })
})

describe('the proxy', () => {
  it('forwards only the methods the document lists', async () => {
    f = await startServer('bookingsync')
    const options = await f.api('/proxy/acme-bs/main/accounts', { method: 'OPTIONS' })
    expect(options.status).toBe(404)
    expect((await json(options)).error.code).toBe('not_found')
  })
})
