export interface SelfSignedCert {
  readonly certFile: string;
  readonly keyFile: string;
  /** PEM; also the CA to trust. */
  readonly cert: Buffer;
  readonly key: Buffer;
}

export function selfSignedCert(dir: string): SelfSignedCert;
