// The PostgreSQL side of bench/lib/real-fleet.js: a fresh schema, the fleet seeded by COPY
// (bulk-seed.js), the backlog read from the due index, the expiry check of every row in SQL,
// and the table's size with its indexes. The fleet store interface is described in real-fleet.js.
import pg from 'pg'
import { CLAIMABLE_STATES_SQL } from '../../dist/stores/kit/claimable.js'
import { copyClones } from './bulk-seed.js'
import { POSTGRES_URL, postgresSchema } from './world.js'

export async function postgresFleetStore(label, { lifetimeMs, marginMs }) {
  const where = postgresSchema(label)
  const table = `"${where.schema}".innkeeper_connections`
  const db = new pg.Client({ connectionString: POSTGRES_URL })
  await db.connect()
  return {
    url: where.url,
    seed: (clones) => copyClones(db, { schema: where.schema, ...clones }),
    /** After the bulk of the rows: fresh planner statistics, as autovacuum would give them. */
    settle: () => db.query(`ANALYZE ${table}`),
    async bytes() {
      const { rows } = await db.query('SELECT pg_total_relation_size($1::regclass)::float8 AS bytes', [table])
      return rows[0].bytes
    },
    seedNote: ({ rows, ms, bytesAtT0 }) =>
      `seeded ${rows.toLocaleString('en')} rows by COPY in ${(ms / 1000).toFixed(0)} s (table with indexes ${(bytesAtT0 / 2 ** 20).toFixed(0)} MB)`,
    /** Connections due and not refreshed at `at`: a walk of the due index. */
    async due(at) {
      const { rows } = await db.query(
        `SELECT count(*)::int AS due FROM ${table} WHERE refresh_due_at <= $1 AND state IN (${CLAIMABLE_STATES_SQL})`,
        [at],
      )
      return rows[0].due
    },
    /** The expiry check of real-fleet.js over every seeded row (`s…`), in one statement. */
    async check({ t0, stoppedAt, windowStart, windowEnd }) {
      const expiry = `(c.created_at + ${lifetimeMs})`
      const { rows } = await db.query(
        `SELECT
           count(*)::int AS total,
           count(*) FILTER (WHERE c.last_refresh_at IS NOT NULL)::int AS refreshed,
           count(*) FILTER (WHERE c.last_refresh_at IS NOT NULL AND c.last_refresh_at > ${expiry})::int AS late,
           count(*) FILTER (WHERE c.last_refresh_at IS NULL AND ${expiry} <= $2)::int AS expired,
           count(*) FILTER (WHERE c.last_refresh_at IS NULL AND ${expiry} - ${marginMs} <= $2)::int AS due_left,
           count(*) FILTER (WHERE ${expiry} - ${marginMs} <= $1)::int AS due_at_t0,
           count(*) FILTER (WHERE ${expiry} <= $2)::int AS expiring_in_run,
           count(*) FILTER (WHERE c.last_refresh_at >= $3 AND c.last_refresh_at < $4)::int AS in_window,
           min(${expiry} - c.last_refresh_at) FILTER (WHERE c.last_refresh_at IS NOT NULL) AS least_headroom,
           min(${expiry}) AS first_expiry,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY c.last_refresh_at - (${expiry} - ${marginMs}))
             FILTER (WHERE c.last_refresh_at IS NOT NULL AND ${expiry} - ${marginMs} >= $1) AS lag_p50,
           percentile_cont(0.99) WITHIN GROUP (ORDER BY c.last_refresh_at - (${expiry} - ${marginMs}))
             FILTER (WHERE c.last_refresh_at IS NOT NULL AND ${expiry} - ${marginMs} >= $1) AS lag_p99
         FROM ${table} c WHERE c.name LIKE 's%'`,
        [t0, stoppedAt, windowStart, windowEnd],
      )
      const r = rows[0]
      const ms = (value) => (value === null ? null : Number(value))
      return {
        total: r.total,
        refreshed: r.refreshed,
        late: r.late,
        expired: r.expired,
        dueLeft: r.due_left,
        dueAtT0: r.due_at_t0,
        expiringInRun: r.expiring_in_run,
        inWindow: r.in_window,
        leastHeadroomMs: ms(r.least_headroom),
        firstExpiry: ms(r.first_expiry),
        lagP50Ms: ms(r.lag_p50),
        lagP99Ms: ms(r.lag_p99),
      }
    },
    async drop() {
      await db.end()
      await where.drop()
    },
  }
}
