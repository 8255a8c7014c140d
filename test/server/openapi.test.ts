// `/openapi.json` is a valid OpenAPI 3.1 document (checked by @readme/openapi-parser) and describes
// exactly the routes the server registers under `/api` and `/proxy`, with the operations routes:
// a route added without its description fails here, naming its method and path.
import { compileErrors, dereference, validate } from '@readme/openapi-parser'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { afterEach, describe, expect, it } from 'vitest'
import { registeredRoutes } from '../../src/server/route-list.js'
import { connectBookingSync, json, type ServerFixture, startServer } from './support.js'

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

describe('the answers', () => {
  it('match the schemas the document gives them, errors included', async () => {
    f = await startServer('bookingsync', {}, { allowPrivateWebhooks: true })
    await connectBookingSync(f)
    const document: Json = await dereference(await json(await fetch(`${f.baseUrl}/openapi.json`)))
    const ajv = new Ajv2020({ strict: false, validateFormats: false })
    const checked: string[] = []
    async function check(
      method: string,
      template: string,
      path: string,
      init: RequestInit & { key?: string } = {},
    ) {
      const answer = await f.api(path, { ...init, method })
      const operation = document.paths[template][method.toLowerCase()]
      const described = operation.responses[String(answer.status)]
      expect(described, `${method} ${path} answered ${answer.status}`).toBeDefined()
      const schema = described.content?.['application/json']?.schema
      const text = await answer.text()
      if (schema) {
        const valid = ajv.validate(schema, JSON.parse(text))
        expect(valid, `${method} ${path} ${answer.status}: ${ajv.errorsText()}`).toBe(true)
      } else {
        expect(text, `${method} ${path} ${answer.status} has no described body`).toBe('')
      }
      checked.push(`${method} ${template} ${answer.status}`)
      return text
    }
    const post = (body: unknown): RequestInit => ({
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })

    const added = JSON.parse(
      await check(
        'POST',
        '/api/webhooks',
        '/api/webhooks',
        post({ url: 'http://127.0.0.1:9/in', events: ['connection.refreshed'] }),
      ),
    )
    await check('POST', '/api/webhooks', '/api/webhooks', post({ url: 'http://hooks.example.com/in' }))
    await check('GET', '/api/connections', '/api/connections')
    await check('GET', '/api/connections/{id}', '/api/connections/acme-bs%2Fmain')
    await check('GET', '/api/connections/{id}', '/api/connections/nobody%2Fmain')
    await check('GET', '/api/connections/{app}/{name}', '/api/connections/acme-bs/main')
    await check('POST', '/api/connections/{id}/token', '/api/connections/acme-bs%2Fmain/token')
    await check('POST', '/api/connections/{app}/{name}/token', '/api/connections/acme-bs/main/token')
    await check('POST', '/api/connections/{id}/refresh', '/api/connections/acme-bs%2Fmain/refresh')
    await check('POST', '/api/connections/{app}/{name}/refresh', '/api/connections/acme-bs/main/refresh')
    // The refreshes left deliveries waiting for the receiver (nothing delivers them in this test).
    const listed = JSON.parse(await check('GET', '/api/webhooks', '/api/webhooks'))
    expect(listed.deliveries.length).toBeGreaterThan(0)
    await check('DELETE', '/api/webhooks/{id}', `/api/webhooks/${added.id}`)
    await check('DELETE', '/api/webhooks/{id}', `/api/webhooks/${added.id}`)
    await check(
      'POST',
      '/api/connect-sessions',
      '/api/connect-sessions',
      post({ app: 'acme-bs', name: 'guest' }),
    )
    await check('GET', '/api/connections', '/api/connections', { key: 'wrong' })
    await check('GET', '/proxy/{app}/{name}/{path}', '/proxy/acme-bs/nobody/rentals')
    await check('GET', '/healthz', '/healthz')
    await check('GET', '/readyz', '/readyz')
    expect(checked).toContain('DELETE /api/webhooks/{id} 404')
    expect(checked).toContain('POST /api/webhooks 400')
    expect(checked).toContain('GET /api/connections 401')
    expect(checked).toContain('POST /api/connect-sessions 201')
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
