// Values scripts/build-cli.js writes into the bundled command line (esbuild `define`), so the
// command reads no file for them at start-up.

/** The `version` of package.json, printed by `innkeeper --version`. */
declare const INNKEEPER_VERSION: string
