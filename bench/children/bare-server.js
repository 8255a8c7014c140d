// The baseline server for the token-API and memory benchmarks: bare `node:http` answering every
// request with one fixed JSON body shaped like the token API's answer. Reports its port over IPC.
import { createServer } from 'node:http'

const body = JSON.stringify({
  accessToken: 'f'.repeat(64),
  tokenType: 'Bearer',
  expiresAt: Date.now() + 7_200_000,
})
const server = createServer((request, response) => {
  request.resume()
  request.on('end', () => {
    response.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    })
    response.end(body)
  })
})
server.listen(0, '127.0.0.1', () => process.send({ ready: true, port: server.address().port }))
process.on('disconnect', () => server.close(() => process.exit(0)))
