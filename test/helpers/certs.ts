import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfSignedCert } from './self-signed-cert.mjs';

export interface TestCert {
  /** PEM certificate for CN=localhost, SAN DNS:localhost, IP:127.0.0.1 and IP:::1, valid one day. */
  readonly cert: Buffer;
  readonly key: Buffer;
}

let cached: TestCert | undefined;

/**
 * A self-signed certificate made with openssl at test time (no key in the repo), once per
 * process. The certificate is its own CA: pass `cert` as the client's `ca`.
 */
export function testCert(): TestCert {
  if (cached !== undefined) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'logwire-cert-'));
  try {
    const { cert, key } = selfSignedCert(dir);
    cached = Object.freeze({ cert, key });
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
