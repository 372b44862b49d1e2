import type { Address } from '../protocol/address.js';
import type { Link } from './link.js';
import { type Listener, type ListenOptions, resolveListenOptions } from './listen-options.js';
import { listenStream } from './stream-listener.js';
import { listenUdp } from './udp-listener.js';

export type { Listener, ListenLimits, ListenOptions } from './listen-options.js';

/**
 * Listens on `address` (any scheme, or a systemd socket) and hands each new link to `onLink`,
 * which should subscribe at once (a Messenger does). Rejects with LogwireError LW_ERR_LISTEN
 * (`listen tcp/0.0.0.0:4043: address in use — is another collector running?`) or
 * LW_ERR_BAD_OPTION.
 */
export async function listen(
  address: Address,
  options: ListenOptions,
  onLink: (link: Link) => void,
): Promise<Listener> {
  const resolved = resolveListenOptions(address, options);
  return address.scheme === 'udp'
    ? listenUdp(address, resolved, onLink)
    : listenStream(address, resolved, onLink);
}
