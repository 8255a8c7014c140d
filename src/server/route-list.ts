// The routes a server registered (method and URL, as Fastify saw them), recorded by an `onRoute`
// hook from the start, so the OpenAPI check can hold the document against every route there is.
import type { FastifyInstance } from 'fastify'

export interface RegisteredRoute {
  method: string
  url: string
}

const routesByServer = new WeakMap<FastifyInstance, RegisteredRoute[]>()

/** Call right after creating the instance: routes added before the hook are not seen. */
export function recordRoutes(app: FastifyInstance): void {
  const routes: RegisteredRoute[] = []
  routesByServer.set(app, routes)
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    for (const method of methods) routes.push({ method: method.toUpperCase(), url: route.url })
  })
}

export function registeredRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  return routesByServer.get(app) ?? []
}
