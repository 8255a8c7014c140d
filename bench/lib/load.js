// A small HTTP load generator: `connections` keep-alive connections (node:http Agent), each
// sending the next request as soon as the last answer is read, for `durationMs`. The same client
// drives the service and the bare baseline server.
import http from 'node:http'
import { performance } from 'node:perf_hooks'
import { percentile } from './stats.js'

export async function load({ port, path, method = 'GET', headers = {}, connections = 64, durationMs }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections })
  const latencies = []
  const statuses = {}
  const once = () =>
    new Promise((resolve, reject) => {
      const start = performance.now()
      const request = http.request(
        { host: '127.0.0.1', port, path, method, agent, headers: { 'content-length': 0, ...headers } },
        (response) => {
          response.on('data', () => {})
          response.on('end', () => {
            latencies.push(performance.now() - start)
            statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1
            resolve()
          })
          response.on('error', reject)
        },
      )
      request.on('error', reject)
      request.end()
    })
  const start = performance.now()
  const deadline = start + durationMs
  let errors = 0
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < deadline) {
        try {
          await once()
        } catch {
          errors += 1
        }
      }
    }),
  )
  const elapsed = performance.now() - start
  agent.destroy()
  return {
    requests: latencies.length,
    perSecond: latencies.length / (elapsed / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    statuses,
    errors,
  }
}
