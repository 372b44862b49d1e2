import { debuglog } from 'node:util';

const debug = debuglog('logwire');

/**
 * The source id a session registers under, and its renewal: when a collector knows more of this
 * source than it ever numbered (`sequence_behind`, or READY last ≥ next), the id is taken anew
 * (a spool saves it first) and the next handshake waits for that.
 */
export class SourceRenewal {
  #source: string;
  readonly #renewSource: () => Promise<string>;
  #renewing: Promise<unknown> | undefined;

  constructor(source: string, renewSource: () => Promise<string>) {
    this.#source = source;
    this.#renewSource = renewSource;
  }

  get source(): string {
    return this.#source;
  }

  /** A renewal under way, else undefined (no await then: REGISTER leaves at once). */
  get pending(): Promise<unknown> | undefined {
    return this.#renewing;
  }

  /** Takes a fresh source id; a failure keeps the old one (an unsaved id could duplicate). */
  renew(why: string): void {
    debug('source %s: %s; taking a fresh source id', this.#source, why);
    const renewing = this.#renewSource()
      .then(
        (source) => {
          this.#source = source;
        },
        (error: unknown) => debug('renewing the source id failed: %s', (error as Error).message),
      )
      .finally(() => {
        if (this.#renewing === renewing) this.#renewing = undefined;
      });
    this.#renewing = renewing;
  }
}
