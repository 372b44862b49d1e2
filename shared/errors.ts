/**
 * Every error logwire raises. Callers branch on `code`; docs/errors.md lists them all.
 * Protocol errors also carry the reply owed to the peer (as ws's errors carry a close code).
 */

export const ERROR_CODES = {
  LW_ERR_BAD_LINE: 'a line does not follow the message grammar',
  LW_ERR_LINE_TOO_LONG: 'a line is longer than the line limit',
  LW_ERR_BODY_TOO_LARGE: 'a body is larger than the body limit',
  LW_ERR_BAD_BYTES: 'a bytes parameter is not a plain decimal number',
  LW_ERR_BAD_PARAM: 'a parameter has the wrong type or value',
  LW_ERR_MISSING_PARAM: 'a required parameter is missing',
  LW_ERR_UNDEFINED_PARAM: 'a parameter the message does not define',
  LW_ERR_DUPLICATE_MATCH: 'a dispatcher match is added twice',
  LW_ERR_UNKNOWN_COMMAND: 'a command with no definition',
  LW_ERR_BAD_ADDRESS: 'an address does not follow docs/protocol.md §9',
  LW_ERR_BAD_OPTION: 'an option or configuration key is invalid',
  LW_ERR_CONNECT: 'a connection could not be made (refused, unreachable, TLS or WebSocket refused)',
  LW_ERR_CONNECT_TIMEOUT: 'a connection attempt took longer than its timeout',
  LW_ERR_HANDSHAKE_TIMEOUT: 'a TLS or WebSocket handshake took longer than its timeout',
  LW_ERR_IDLE_TIMEOUT: 'a connection sent nothing for longer than its idle timeout',
  LW_ERR_CLOSED: 'an operation on something already closed',
  LW_ERR_PEER_SILENT: 'the peer sent nothing within the heartbeat timeout after ALIVE',
  LW_ERR_ACK_TIMEOUT: 'batches were in flight and no acknowledgement came within ackTimeout',
  LW_ERR_REFUSED: 'the collector refused REGISTER (UNAUTHORIZED or INVALID command=REGISTER)',
  LW_ERR_QUEUE_FULL: 'a bounded queue is full',
  LW_ERR_LISTEN: 'a listener cannot be bound',
  LW_ERR_SPOOL: 'the spool cannot be read or written',
  LW_ERR_OUTPUT: 'an output file cannot be opened or written',
  LW_ERR_PATH_ESCAPE: 'an output path leaves the output directory',
  LW_ERR_CHECKPOINT: 'the checkpoint in the state directory cannot be read or written',
  LW_ERR_STATE_LOCKED: 'another collector holds the state directory',
  LW_ERR_CONFIG: 'the configuration cannot be read',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class LogwireError extends Error {
  readonly code: ErrorCode;
  override readonly name: string = 'LogwireError';

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Reply owed to the peer: the command and its parameters (formatted by the codec). */
export interface OwedReply {
  readonly command: 'INVALID' | 'UNKNOWN' | 'UNAUTHORIZED';
  readonly params: Readonly<Record<string, string>>;
}

/**
 * A message the peer sent that breaks PROTOCOL.md. `fatal` means framing can no longer be
 * trusted and the connection must close after `reply` (if any) is sent.
 */
export class ProtocolError extends LogwireError {
  override readonly name = 'ProtocolError';
  readonly fatal: boolean;
  readonly reply: OwedReply | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { fatal: boolean; reply?: OwedReply; cause?: unknown },
  ) {
    super(code, message, options);
    this.fatal = options.fatal;
    this.reply = options.reply;
  }
}

/** The `code` of a Node.js system error (ENOENT, EEXIST…), or undefined. */
export function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}
