// A minimal backend (Fastify) that sends a signed-in user of your product to an Innkeeper connect
// link and takes them back. Your "Connect BookingSync" button points at GET /connect/smily.
import Fastify from 'fastify'

export function buildBackend({
  innkeeperUrl = process.env.INNKEEPER_URL, // e.g. https://keys.example.com
  apiKey = process.env.INNKEEPER_API_KEY, // from `innkeeper keys create`
} = {}) {
  const app = Fastify()
  const innkeeper = (path, init = {}) =>
    fetch(`${innkeeperUrl}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    })
  // Your own login says who this is; a header stands in for it here.
  const userOf = (request) => String(request.headers['x-user-id'] ?? '').replace(/[^A-Za-z0-9]/g, '')

  app.get('/connect/smily', async (request, reply) => {
    const answer = await innkeeper('/api/connect-sessions', {
      method: 'POST',
      body: JSON.stringify({
        app: 'smily',
        name: `user-${userOf(request)}`,
        returnUrl: `${request.protocol}://${request.host}/innkeeper/done`,
        replace: true, // this user reconnecting replaces their own earlier connection
      }),
    })
    const body = await answer.json()
    if (answer.status !== 201) return reply.code(502).send({ error: body.error.message })
    return reply.redirect(body.url, 303) // single use, 30 minutes
  })

  app.get('/innkeeper/done', async (request, reply) => {
    // `connection` comes back in the URL: trust it only if it is this user's and Innkeeper has it.
    const expected = `smily/user-${userOf(request)}`
    if (request.query.connection !== expected) return reply.code(400).send({ error: 'not yours' })
    const answer = await innkeeper(`/api/connections/${encodeURIComponent(expected)}`)
    if (answer.status !== 200) return reply.code(404).send({ error: 'not connected' })
    const connection = await answer.json()
    return { connected: connection.id, state: connection.state }
  })
  return app
}
