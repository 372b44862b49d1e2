/**
 * The data connections of one stream listener (PROTOCOL.md §4): a session takes a slot when its
 * REGISTER is accepted and gives it back when it ends. The listener admits CONTROL_HEADROOM
 * sockets beyond the slots, so a control command (STATUS) is still served when every slot is
 * taken; a REGISTER beyond the slots gets `INVALID command=REGISTER;reason=too_many_connections`.
 */

/** Sockets a stream listener admits beyond `max_connections`, for control commands. */
export const CONTROL_HEADROOM = 16;

export class DataSlots {
  /** max_connections; RELOAD may change it (slots taken beyond a lowered limit stay until they end). */
  limit: number;
  #taken = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  get taken(): number {
    return this.#taken;
  }

  /** Takes a slot and returns what gives it back (once); undefined when every slot is taken. */
  take(): (() => void) | undefined {
    if (this.#taken >= this.limit) return undefined;
    this.#taken += 1;
    let giveBack: (() => void) | undefined = () => {
      this.#taken -= 1;
    };
    return () => {
      giveBack?.();
      giveBack = undefined;
    };
  }
}
