// Types of connect-backend.mjs, for the test that runs it (test/server/connect-example.test.ts).
import type { FastifyInstance } from 'fastify'

export function buildBackend(options?: { innkeeperUrl?: string; apiKey?: string }): FastifyInstance
