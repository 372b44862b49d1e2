import { parentPort, workerData } from 'node:worker_threads';
import { createAppender } from './appender.js';
import { RingConsumer } from './shared-ring.js';
import {
  COUNTER_KEYS,
  THREAD_CLOSED,
  THREAD_FAILED,
  THREAD_RUNNING,
  type ThreadData,
  type ToMain,
  type ToThread,
} from './thread-messages.js';

/**
 * The shipping thread of `createThreadedAppender`: an in-process appender of its own, fed the
 * record lines the app's thread writes into the shared ring (or posts, when the ring was full).
 * Everything after the lines (batching, numbering, the session, the spool, close and its report)
 * is the appender's, unchanged.
 *
 * It takes from the ring while there is something, one chunk per turn of its event loop (so that
 * acknowledgements are read in between), then sleeps until the app's thread wakes it.
 */

const port = parentPort;
if (port === null) throw new Error('logwire: thread-worker.js runs only as a worker thread');
const data = workerData as ThreadData;
const post = (message: ToMain): void => port.postMessage(message);

try {
  const appender = await createAppender(data.options);
  const publishCounters = (): void => {
    const counters = appender.counters;
    for (let i = 0; i < COUNTER_KEYS.length; i++) data.counters[i] = counters[COUNTER_KEYS[i]!];
  };
  appender.on('progress', publishCounters);
  appender.on('close', () => {
    publishCounters();
    // The app's thread may be blocked in Atomics.wait at exit: the flag, not a message, wakes it.
    setState(THREAD_CLOSED);
    post({ type: 'closed' });
    // Nothing more to do: let the thread end once the message is out (the app may run on).
    port.unref();
  });
  const ring = new RingConsumer(data.ring);
  /** Hands what the ring holds to the appender; false when it held nothing. */
  const takeFromRing = (): boolean => {
    const chunk = ring.take();
    if (chunk === undefined) return false;
    appender.write(chunk);
    return true;
  };
  const pump = (): void => {
    if (takeFromRing() || !ring.sleep()) setImmediate(pump);
  };
  port.on('message', (message: ToThread) => {
    // What the ring held when this was posted comes first.
    takeFromRing();
    if (typeof message === 'string') {
      appender.write(message);
      ring.tookText();
    } else if (message.type === 'wake') pump();
    else if (message.type === 'flush')
      appender.flush(() => {
        // The app reads the counters once flushed: they must already say what the flush waited for.
        publishCounters();
        post({ type: 'flushed', id: message.id });
      });
    else if (message.type === 'end') appender.end();
  });
  // From now on what the app's thread wrote or posted is this appender's to deliver or report.
  setState(THREAD_RUNNING);
  post({ type: 'ready' });
  pump();
} catch (error) {
  setState(THREAD_FAILED);
  post({ type: 'failed', message: (error as Error).message, code: (error as { code?: string }).code });
}

function setState(state: number): void {
  Atomics.store(data.state, 0, state);
  Atomics.notify(data.state, 0);
}
