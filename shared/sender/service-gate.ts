/**
 * The service name a session registers under, which may come later than the connection: an
 * appender without a `service` option learns it from its first record, while its link is already
 * up (Sender.connectEarly). Handshakes wait here for it.
 */
export class ServiceGate {
  #name: string | undefined;
  readonly #waiters = new Set<() => void>();

  get name(): string | undefined {
    return this.#name;
  }

  /** Names the service once; later calls change nothing. True when this call named it. */
  open(name: string): boolean {
    if (this.#name !== undefined) return false;
    this.#name = name;
    for (const named of this.#waiters) named();
    this.#waiters.clear();
    return true;
  }

  /**
   * The name, at once when known (no await: REGISTER then leaves in the very microtask that
   * names it), else a promise of it that rejects with the signal's reason if it aborts first.
   */
  wait(signal: AbortSignal): Promise<string> | string {
    if (this.#name !== undefined) return this.#name;
    return new Promise((resolve, reject) => {
      const named = (): void => {
        signal.removeEventListener('abort', abandoned);
        resolve(this.#name!);
      };
      const abandoned = (): void => {
        this.#waiters.delete(named);
        reject(signal.reason);
      };
      signal.addEventListener('abort', abandoned, { once: true });
      this.#waiters.add(named);
    });
  }
}
