/**
 * logwire's programmatic API. The pino transport itself is `logwire/appender`; this entry is
 * for embedding: run a collector in-process, speak the protocol, build a client of your own.
 */

// The appender, in-process (`pino(await createAppender(options))`).
// From the entry `logwire/appender` itself (a bundle in the package): one Appender class for both.
export {
  type Appender,
  type AppenderCounters,
  type AppenderOptions,
  createAppender,
  parseAppenderOptions,
} from './appender/index.js';
// The collector.
export { type StartOptions, startCollector } from './collector/collector.js';
export { loadConfig } from './collector/config/config.js';
export type { Collector, CollectorConfig, CollectorLog } from './collector/config/config-types.js';
export { createCollectorLog } from './collector/log.js';
// Dispatching messages.
export type { DispatchContext } from './shared/dispatcher/context.js';
export { Coverage, defaultCoverage } from './shared/dispatcher/coverage.js';
export { Dispatcher, type DispatcherOptions, type Handler } from './shared/dispatcher/dispatcher.js';
export { installStandardHandlers } from './shared/dispatcher/standard-handlers.js';
// Errors.
export { ERROR_CODES, type ErrorCode, LogwireError, ProtocolError } from './shared/errors.js';
// Connections.
export { type ConnectOptions, connectLink } from './shared/net/connect.js';
export type { Link } from './shared/net/link.js';
export { type Listener, type ListenOptions, listen } from './shared/net/listener.js';
export { Messenger, type MessengerOptions } from './shared/net/messenger.js';
export {
  type ClientStatus,
  PermanentClient,
  type PermanentClientOptions,
} from './shared/net/permanent-client.js';
// The protocol (the address grammar, PROTOCOL.md §9, included).
export { type Address, formatAddress, parseAddress, parseAddressList } from './shared/protocol/address.js';
export { decodeDatagram } from './shared/protocol/datagram.js';
export { checkMessage, DEFINITIONS, PROTOCOL_COMMANDS } from './shared/protocol/definitions.js';
export { encodeMessage, encodeMessageToBuffer } from './shared/protocol/encode.js';
export { FrameDecoder, type FrameSink } from './shared/protocol/frame-decoder.js';
export type { FrameLimits } from './shared/protocol/limits.js';
export { formatLine, parseLine } from './shared/protocol/line.js';
export { type Message, message, type Params, params } from './shared/protocol/message.js';
export type { PeerInfo } from './shared/protocol/peer.js';
