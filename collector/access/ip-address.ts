/**
 * IP addresses as numbers, for CIDR matching: IPv4 in 32 bits, IPv6 in 128. An IPv4-mapped
 * IPv6 address (`::ffff:10.0.0.1`, what a dual-stack socket reports for an IPv4 peer) is read
 * as the IPv4 address it carries, so one `10.0.0.0/8` rule covers both spellings.
 */

import { isIPv4, isIPv6 } from 'node:net';

export interface IpNumber {
  readonly family: 4 | 6;
  readonly value: bigint;
}

function ipv4Value(text: string): bigint {
  return text.split('.').reduce((sum, part) => (sum << 8n) | BigInt(Number(part)), 0n);
}

/** The 128-bit value of a valid IPv6 text (`::` compression and a dotted IPv4 tail allowed). */
function ipv6Value(text: string): bigint {
  let hex = text;
  if (hex.includes('.')) {
    // A dotted IPv4 tail is the last two 16-bit words.
    const at = hex.lastIndexOf(':');
    const v4 = ipv4Value(hex.slice(at + 1));
    hex = `${hex.slice(0, at + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const words = (part: string): bigint[] =>
    part === '' ? [] : part.split(':').map((word) => BigInt(Number.parseInt(word, 16)));
  const [head = '', tail] = hex.split('::');
  const left = words(head);
  const right = tail === undefined ? [] : words(tail);
  const zeros = Array<bigint>(8 - left.length - right.length).fill(0n);
  return [...left, ...zeros, ...right].reduce((sum, word) => (sum << 16n) | word, 0n);
}

/** The address of `host` (brackets and a `%zone` allowed), or undefined when it is not an IP. */
export function parseIp(host: string): IpNumber | undefined {
  let text = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  if (isIPv4(text)) return { family: 4, value: ipv4Value(text) };
  if (!isIPv6(text)) return undefined;
  const value = ipv6Value(text.toLowerCase());
  if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn };
  return { family: 6, value };
}
