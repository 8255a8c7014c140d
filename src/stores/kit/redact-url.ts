// A store URL as messages show it (errors, `innkeeper doctor`, logs): the password masked, and
// every query parameter whose name says credential (password, secret, key, token) masked too,
// since drivers also read credentials from the query string.

/** The URL without its password and without credentials in query parameters. */
export function redactUrl(url: URL): string {
  const copy = new URL(url.toString())
  if (copy.password) copy.password = '***'
  for (const name of [...copy.searchParams.keys()]) {
    if (/pass|secret|key|token/i.test(name)) copy.searchParams.set(name, '***')
  }
  return copy.toString()
}
