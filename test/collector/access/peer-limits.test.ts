import { describe, expect, it } from 'vitest';
import { PeerConnections, peerHost } from '../../../collector/access/peer-limits.js';

describe('PeerConnections', () => {
  it('gives each peer address at most `limit` places, and a place back once', () => {
    const peers = new PeerConnections(2);
    const a1 = peers.take('10.0.0.1');
    const a2 = peers.take('10.0.0.1');
    expect(a1 && a2).toBeTypeOf('function');
    expect(peers.take('10.0.0.1')).toBeUndefined();
    expect(peers.take('10.0.0.2')).toBeTypeOf('function'); // another peer is not held back
    a1!();
    a1!(); // twice gives back one place only
    expect(peers.count('10.0.0.1')).toBe(1);
    expect(peers.take('10.0.0.1')).toBeTypeOf('function');
    expect(peers.take('10.0.0.1')).toBeUndefined();
  });

  it('has no limit when none is set, and takes a new limit for the next connection', () => {
    const peers = new PeerConnections(undefined);
    for (let i = 0; i < 100; i++) expect(peers.take('h')).toBeTypeOf('function');
    peers.limit = 100;
    expect(peers.take('h')).toBeUndefined();
  });
});

describe('peerHost', () => {
  it('cuts the port off IPv4 and bracketed IPv6 remotes', () => {
    expect(peerHost('10.0.0.7:5123')).toBe('10.0.0.7');
    expect(peerHost('[2001:db8::1]:5123')).toBe('2001:db8::1');
    expect(peerHost('[::ffff:10.0.0.1]:1')).toBe('::ffff:10.0.0.1');
  });
});
