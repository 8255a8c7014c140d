// Runs the memory store through the shared store conformance suite (no encryption at rest to
// check: the memory store writes nothing anywhere).
import { openMemoryStore } from '../../src/stores/memory.js'
import { runStoreConformance } from './conformance.js'

runStoreConformance('memory', async () => ({ store: openMemoryStore() }))
