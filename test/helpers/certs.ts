import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCert {
  /** PEM certificate for CN=localhost, SAN DNS:localhost and IP:127.0.0.1, valid one day. */
  readonly cert: Buffer;
  readonly key: Buffer;
}

let cached: TestCert | undefined;

/**
 * A self-signed P-256 certificate made with openssl at test time (no key in the repo), once
 * per process. The certificate is its own CA: pass `cert` as the client's `ca`.
 */
export function testCert(): TestCert {
  if (cached !== undefined) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'logwire-cert-'));
  try {
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
        '-keyout',
        keyPath,
        '-out',
        certPath,
      ],
      { stdio: 'ignore' },
    );
    cached = Object.freeze({ cert: readFileSync(certPath), key: readFileSync(keyPath) });
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
