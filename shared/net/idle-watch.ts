import { LogwireError } from '../errors.js';
import type { Clock, TimerHandle } from './clock.js';
import type { Link } from './link.js';

/**
 * Destroys `link` with LW_ERR_IDLE_TIMEOUT once it has received nothing for `ms`. One timer per
 * link that re-arms for the remaining time when it fires early, so data costs a clock read,
 * not a timer reset. Call it after the link's consumer subscribed to 'data' (that starts reading).
 * Returns a function that stops watching (a new idleTimeout replaces the watch: setLimits).
 */
export function watchIdle(link: Link, ms: number, clock: Clock): () => void {
  let last = clock.now();
  let timer: TimerHandle | undefined;
  const check = (): void => {
    const idle = clock.now() - last;
    if (idle < ms) {
      timer = clock.setTimeout(check, ms - idle);
      return;
    }
    timer = undefined;
    const { transport, remote } = link.peer;
    link.destroy(
      new LogwireError(
        'LW_ERR_IDLE_TIMEOUT',
        `${transport} ${remote}: nothing received for ${ms} ms (idleTimeout)`,
      ),
    );
  };
  const onData = (): void => {
    last = clock.now();
  };
  const stop = (): void => {
    link.off('data', onData);
    link.off('close', stop);
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
  };
  link.on('data', onData);
  link.once('close', stop);
  if (!link.closed) timer = clock.setTimeout(check, ms);
  return stop;
}
