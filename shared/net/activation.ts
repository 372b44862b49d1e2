import { LogwireError } from '../errors.js';
import { type Address, formatAddress } from '../protocol/address.js';

/** systemd hands sockets over from this descriptor on (sd_listen_fds(3): SD_LISTEN_FDS_START). */
export const LISTEN_FDS_START = 3;

/**
 * The descriptor a `systemd#N` / `systemd#name` address names, from LISTEN_FDS, LISTEN_FDNAMES
 * (colon-separated, one name per descriptor) and LISTEN_PID (when set, it must be `pid`: the
 * variables were meant for this process and not inherited from a parent). Pure, for tests.
 * Throws LogwireError LW_ERR_LISTEN saying what is missing.
 */
export function activatedDescriptor(address: Address, env: NodeJS.ProcessEnv, pid: number): number {
  const activation = address.activation;
  const where = `listen ${formatAddress(address)}`;
  if (activation === undefined) {
    throw new LogwireError('LW_ERR_LISTEN', `${where}: not a systemd socket address`);
  }
  const listenPid = env.LISTEN_PID;
  if (listenPid !== undefined && listenPid !== '' && Number(listenPid) !== pid) {
    throw new LogwireError(
      'LW_ERR_LISTEN',
      `${where}: LISTEN_PID is ${listenPid}, not this process (${pid}): the sockets were handed to another process`,
    );
  }
  const countText = env.LISTEN_FDS;
  const count = countText !== undefined && /^\d{1,6}$/.test(countText) ? Number(countText) : 0;
  if (count === 0) {
    throw new LogwireError(
      'LW_ERR_LISTEN',
      `${where}: no socket was handed over (LISTEN_FDS is ${countText === undefined ? 'not set' : JSON.stringify(countText)}); ` +
        'start logwire from a systemd .socket unit, or listen on an address',
    );
  }
  let index: number;
  if ('index' in activation) {
    index = activation.index;
    if (index >= count) {
      throw new LogwireError(
        'LW_ERR_LISTEN',
        `${where}: systemd handed over ${count} socket(s), so the index must be 0 to ${count - 1}`,
      );
    }
  } else {
    const names = (env.LISTEN_FDNAMES ?? '').split(':').slice(0, count);
    index = names.indexOf(activation.name);
    if (index < 0) {
      const known = names.filter((n) => n !== '').join(', ') || 'none (LISTEN_FDNAMES is not set)';
      throw new LogwireError(
        'LW_ERR_LISTEN',
        `${where}: no socket named "${activation.name}" was handed over; names: ${known} (FileDescriptorName= in the .socket unit)`,
      );
    }
  }
  return LISTEN_FDS_START + index;
}
