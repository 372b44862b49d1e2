/** Who is at the other end of a link, as far as authority goes (PROTOCOL.md §5). */
export type Transport = 'tcp' | 'tls' | 'unix' | 'ws' | 'wss' | 'udp' | 'ndjson';

export interface PeerInfo {
  readonly transport: Transport;
  /** `host:port`, `[::1]:port` or the Unix socket path, for logs and STATUS. */
  readonly remote: string;
  /** A Unix socket or loopback peer: may send state-changing commands (LOG, STOP, …). */
  readonly local: boolean;
  /** TLS or WSS: `secret_code` is honoured only over these. */
  readonly secure: boolean;
}
