import fc from 'fast-check';
import { type Message, params } from '../../shared/protocol/message.js';

/** Values that stress the escaping: quotes, semicolons, backslashes, LF, CR, unicode, spaces. */
export const valueArb = fc.oneof(
  fc.string({ unit: fc.constantFrom(';', '"', '\\', '\n', '\r', ' ', '=', 'a', 'é', '🙂', 'n', 'r') }),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', '\\', 'x\\', '"', '";', 'trailing  ', '\\n', '"quoted"'),
);

export const nameArb = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/).filter((n) => n !== 'bytes');
export const commandArb = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,10}$/);
const labelArb = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,8}$/);

export const messageArb: fc.Arbitrary<Message> = fc
  .record({
    command: commandArb,
    entries: fc.dictionary(nameArb, valueArb, { maxKeys: 6 }),
    body: fc.option(fc.uint8Array({ maxLength: 300 }), { nil: undefined }),
    origin: fc.option(fc.record({ server: labelArb, service: labelArb }), { nil: undefined }),
    dest: fc.option(fc.record({ server: fc.option(labelArb, { nil: undefined }), service: labelArb }), {
      nil: undefined,
    }),
  })
  .map(({ command, entries, body, origin, dest }) => {
    const msg: { -readonly [K in keyof Message]: Message[K] } = { command, params: params(entries) };
    if (body !== undefined) msg.body = Buffer.from(body);
    if (origin !== undefined) msg.origin = origin;
    if (dest !== undefined) msg.dest = dest.server === undefined ? { service: dest.service } : dest;
    return msg;
  });

/** The message as the decoder gives it back: `bytes` set from the body. */
export function expected(msg: Message): Message {
  if (msg.body === undefined) return msg;
  return { ...msg, params: params({ ...msg.params, bytes: String(msg.body.length) }) };
}

/** Plain-object view for deep equality (null-prototype params, Buffer bodies). */
export function plain(msg: Message): unknown {
  return {
    command: msg.command,
    params: { ...msg.params },
    body: msg.body === undefined ? undefined : Buffer.from(msg.body).toString('hex'),
    origin: msg.origin,
    dest: msg.dest,
  };
}
