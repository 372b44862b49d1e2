import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Makes a self-signed P-256 certificate with openssl in `dir` (no key lives in the repo): CN and
 * SAN localhost, 127.0.0.1 and ::1, valid one day. It is its own CA. Shared by the tests
 * (test/helpers/certs.ts) and bench/transport.mjs, which runs without a TypeScript step.
 */
export function selfSignedCert(dir) {
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  // biome-ignore format: one openssl flag and its value per line
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
    '-keyout', keyFile, '-out', certFile,
  ], { stdio: 'ignore' });
  return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}
