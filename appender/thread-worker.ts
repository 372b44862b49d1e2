import { parentPort, workerData } from 'node:worker_threads';
import { createAppender } from './appender.js';
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
 * record lines the app's thread posts. Everything after the lines (batching, numbering, the
 * session, the spool, close and its report) is the appender's, unchanged.
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
  port.on('message', (message: ToThread) => {
    if (typeof message === 'string') appender.write(message);
    else if (message.type === 'flush') appender.flush(() => post({ type: 'flushed', id: message.id }));
    else if (message.type === 'end') appender.end();
  });
  // From now on what the app's thread posted is this appender's to deliver or report.
  setState(THREAD_RUNNING);
  post({ type: 'ready' });
} catch (error) {
  setState(THREAD_FAILED);
  post({ type: 'failed', message: (error as Error).message, code: (error as { code?: string }).code });
}

function setState(state: number): void {
  Atomics.store(data.state, 0, state);
  Atomics.notify(data.state, 0);
}
