// Static assets: the stylesheet, served from memory (no build step, no file lookups).
import type { FastifyInstance } from 'fastify'
import { STYLESHEET } from '../pages/style.js'

export function registerAssetRoutes(app: FastifyInstance): void {
  app.get('/assets/innkeeper.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=300').send(STYLESHEET),
  )
}
