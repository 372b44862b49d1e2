/**
 * Connecting to the cluster and making sure the stream is there, as the configuration says:
 * created when missing (publishing side), checked when present. Errors name the URL and the
 * stream: LW_ERR_CONNECT when no server answers (the CLI exits 2), LW_ERR_CONFIG when the
 * stream is missing or configured otherwise (exit 1).
 */

import { type JetStreamManager, jetstreamManager, type StreamConfig } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { LogwireError } from '../../../shared/errors.js';
import type { JetStreamSettings } from './jetstream-config.js';

/** How long the start waits for a server before saying none answers. */
const CONNECT_TIMEOUT_MS = 5_000;
const NANOS_PER_MS = 1_000_000;

/** Connects to the first server that answers; the client then reconnects forever. */
export async function connectCluster(servers: readonly string[], name: string): Promise<NatsConnection> {
  try {
    return await connect({
      servers: [...servers],
      name,
      timeout: CONNECT_TIMEOUT_MS,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: false,
    });
  } catch (error) {
    throw new LogwireError(
      'LW_ERR_CONNECT',
      `cannot connect to NATS at ${servers.join(', ')}: ${reason(error)}`,
      { cause: error },
    );
  }
}

/** The JetStream manager, once the server says JetStream is on. */
export async function manager(nc: NatsConnection, servers: readonly string[]): Promise<JetStreamManager> {
  try {
    return await jetstreamManager(nc, { timeout: CONNECT_TIMEOUT_MS });
  } catch (error) {
    throw new LogwireError(
      'LW_ERR_CONNECT',
      `NATS at ${servers.join(', ')} has no JetStream (start nats-server with -js): ${reason(error)}`,
      { cause: error },
    );
  }
}

/** Creates the stream when missing; refuses one whose subjects, replicas or window differ. */
export async function ensureStream(jsm: JetStreamManager, settings: JetStreamSettings): Promise<void> {
  const wanted = streamConfig(settings);
  const found = await jsm.streams.info(settings.stream).catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw new LogwireError(
      'LW_ERR_CONNECT',
      `cannot read stream ${settings.stream} at ${settings.servers.join(', ')}: ${reason(error)}`,
      { cause: error },
    );
  });
  if (found === undefined) {
    try {
      await jsm.streams.add(wanted);
    } catch (error) {
      throw new LogwireError(
        'LW_ERR_CONFIG',
        `cannot create stream ${settings.stream} (replicas ${settings.replicas}) at ${settings.servers.join(', ')}: ${reason(error)}`,
        { cause: error },
      );
    }
    return;
  }
  const differences = differ(found.config, wanted);
  if (differences.length > 0)
    throw new LogwireError(
      'LW_ERR_CONFIG',
      `stream ${settings.stream} at ${settings.servers.join(', ')} differs from [jetstream]: ${differences.join('; ')}`,
    );
}

/** Refuses to start reading a stream that is not there. */
export async function requireStream(
  jsm: JetStreamManager,
  stream: string,
  servers: readonly string[],
): Promise<void> {
  try {
    await jsm.streams.info(stream);
  } catch (error) {
    throw new LogwireError(
      isNotFound(error) ? 'LW_ERR_CONFIG' : 'LW_ERR_CONNECT',
      `stream ${stream} at ${servers.join(', ')}: ${isNotFound(error) ? 'not found' : reason(error)}`,
      { cause: error },
    );
  }
}

function streamConfig(settings: JetStreamSettings): Partial<StreamConfig> & { name: string } {
  return {
    name: settings.stream,
    subjects: [`${settings.subjectPrefix}.>`],
    num_replicas: settings.replicas,
    duplicate_window: settings.duplicateWindow * NANOS_PER_MS,
    max_age: settings.maxAge * NANOS_PER_MS,
    max_bytes: settings.maxBytes === 0 ? -1 : settings.maxBytes,
  };
}

function differ(found: StreamConfig, wanted: Partial<StreamConfig>): string[] {
  const out: string[] = [];
  const subjects = wanted.subjects?.[0] ?? '';
  if (!found.subjects?.includes(subjects))
    out.push(`subjects ${JSON.stringify(found.subjects)} lack ${subjects}`);
  if (found.num_replicas !== wanted.num_replicas)
    out.push(`replicas ${found.num_replicas}, configured ${String(wanted.num_replicas)}`);
  if (found.duplicate_window !== wanted.duplicate_window)
    out.push(
      `duplicate_window ${found.duplicate_window / NANOS_PER_MS} ms, configured ${(wanted.duplicate_window ?? 0) / NANOS_PER_MS} ms`,
    );
  return out;
}

function isNotFound(error: unknown): boolean {
  const e = error as { code?: unknown; api_error?: { err_code?: number } } | undefined;
  return e?.api_error?.err_code === 10059 || /not found/i.test(reason(error));
}

export function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
