/**
 * Which peer addresses a listener admits: a list of CIDRs (`10.0.0.0/8`, `2001:db8::/32`, a bare
 * address for one host), or `any` written out. Deny by default: an address matching no entry
 * is refused. IPv4 rules also match IPv4-mapped IPv6 peers (ip-address.ts).
 */

import { type IpNumber, parseIp } from './ip-address.js';

export interface Cidr {
  readonly family: 4 | 6;
  /** The network, its host bits cleared. */
  readonly network: bigint;
  readonly prefix: number;
}

/** The written-out entry that admits every address. */
export const ANY = 'any';

function bits(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

function mask(family: 4 | 6, prefix: number): bigint {
  const width = BigInt(bits(family));
  return ((1n << width) - 1n) ^ ((1n << (width - BigInt(prefix))) - 1n);
}

/** `text` as a CIDR (an address alone is /32 or /128), or a sentence saying what is wrong. */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf('/');
  const host = slash === -1 ? text : text.slice(0, slash);
  const ip = host.includes('%') ? undefined : parseIp(host);
  if (ip === undefined || host.startsWith('[')) {
    return `"${text}" is not an address or CIDR, like "10.0.0.0/8" or "2001:db8::/32"`;
  }
  const family: 4 | 6 = ip.family;
  const written = parseIpFamily(host);
  let prefix = bits(family);
  if (slash !== -1) {
    const prefixText = text.slice(slash + 1);
    const max = bits(written);
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
      return `"${text}": the prefix length must be a whole number from 0 to ${max}`;
    }
    if (written !== family && Number(prefixText) < 96) {
      return `"${text}": an IPv4-mapped network needs a prefix of 96 or more; write the IPv4 CIDR`;
    }
    // A mapped IPv6 prefix (::ffff:0:0/96 and longer) narrows the IPv4 address it carries.
    prefix = written === family ? Number(prefixText) : Number(prefixText) - 96;
  }
  return { family, network: ip.value & mask(family, prefix), prefix };
}

function parseIpFamily(host: string): 4 | 6 {
  return host.includes(':') ? 6 : 4;
}

export function cidrContains(cidr: Cidr, ip: IpNumber): boolean {
  return cidr.family === ip.family && (ip.value & mask(cidr.family, cidr.prefix)) === cidr.network;
}

export class AllowList {
  readonly #any: boolean;
  readonly #cidrs: readonly Cidr[];

  private constructor(any: boolean, cidrs: readonly Cidr[]) {
    this.#any = any;
    this.#cidrs = cidrs;
  }

  /** Throws an Error naming the first bad entry; `any` may stand alone or among CIDRs. */
  static parse(entries: readonly string[]): AllowList {
    const cidrs: Cidr[] = [];
    let any = false;
    for (const entry of entries) {
      if (entry === ANY) {
        any = true;
        continue;
      }
      const cidr = parseCidr(entry);
      if (typeof cidr === 'string') throw new Error(cidr);
      cidrs.push(cidr);
    }
    return new AllowList(any, cidrs);
  }

  /** Whether a peer at `host` (an IP text as sockets report it) may connect or send. */
  admits(host: string): boolean {
    if (this.#any) return true;
    const ip = parseIp(host);
    return ip !== undefined && this.#cidrs.some((cidr) => cidrContains(cidr, ip));
  }
}
