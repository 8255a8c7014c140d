// A worker thread of bench/lib/bulk-seed.js: turns ranges of clone numbers into records ready
// for a store, each encoded by the store's own codec and sealed under its own id (AES-GCM per
// record is what bounds seeding speed, so it runs on every core). `format` `copy`: lines of COPY
// text for innkeeper_connections (PostgreSQL); `hash`: the Redis driver's hash fields
// (src/stores/redis/rows.ts hashFields, `version` first, as its save script writes them).
// workerData: { keys, template, prefix, fleet, format }; messages { id, start, end } → { id, chunk }.
import { parentPort, workerData } from 'node:worker_threads'
import { Keyring, parseKeysVariable } from '../../dist/crypto/index.js'
import { encodeConnection } from '../../dist/stores/index.js'
import { hashFields } from '../../dist/stores/redis/rows.js'
import { cloneName, cloneTimes, copyLine } from './clone-rows.js'

const { keys, template, prefix, fleet, format = 'copy' } = workerData
const keyring = new Keyring(parseKeysVariable(keys))

function encodeClone(i) {
  const name = cloneName(prefix, i)
  const { obtainedAt, expiresAt, dueAt } = cloneTimes(fleet, i)
  return encodeConnection(keyring, {
    ...template,
    id: `${template.app}/${name}`,
    name,
    tokens: { ...template.tokens, obtainedAt, expiresAt },
    refreshDueAt: dueAt,
    createdAt: obtainedAt,
    updatedAt: obtainedAt,
    // No lastRefreshAt: a record that has one was refreshed by a worker during the run.
    lastRefreshAt: undefined,
    version: 1,
  })
}

parentPort.on('message', ({ id, start, end }) => {
  if (format === 'hash') {
    const records = []
    for (let i = start; i < end; i++) {
      const { version, ...encoded } = encodeClone(i)
      records.push({
        id: encoded.id,
        dueAt: encoded.refreshDueAt,
        fields: ['version', String(version), ...hashFields(encoded)],
      })
    }
    parentPort.postMessage({ id, chunk: records })
    return
  }
  const lines = []
  for (let i = start; i < end; i++) lines.push(copyLine(encodeClone(i)))
  parentPort.postMessage({ id, chunk: `${lines.join('\n')}\n` })
})
