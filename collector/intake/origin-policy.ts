/**
 * Which browsers may use a WebSocket listener (docs/protocol.md §8). A WebSocket upgrade that
 * carries an `Origin` header comes from a web page; the page's user never chose to write into
 * this collector, so such an upgrade is refused (HTTP 403) unless the listener's
 * `allow_origins` names that origin, or the collector requires a `token` (then the page can
 * write only if it knows the token, which every REGISTER must carry).
 */

/** An origin as browsers send it (`scheme://host[:port]`, lower case, no default port), or undefined. */
export function normalizeOrigin(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  const bare = url.pathname === '/' && url.search === '' && url.hash === '' && url.username === '';
  if (!bare || url.origin === 'null' || !/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return undefined;
  return url.origin;
}

/** The listener's check of an upgrade's `Origin` header: true lets the upgrade through. */
export function originPolicy(
  allowOrigins: () => readonly string[],
  tokenRequired: () => boolean,
): (origin: string) => boolean {
  return (origin) => {
    const normal = normalizeOrigin(origin);
    return (normal !== undefined && allowOrigins().includes(normal)) || tokenRequired();
  };
}
