import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../shared/net/clock.js';
import { watchIdle } from '../../../shared/net/idle-watch.js';
import { message } from '../../../shared/protocol/message.js';
import { FakeLink } from '../../helpers/fake-link.js';

describe('watchIdle', () => {
  it('destroys the link after idleTimeout ms without data', async () => {
    const clock = new ManualClock();
    const link = new FakeLink();
    const closed = new Promise<Error | undefined>((resolve) => link.once('close', resolve));
    watchIdle(link, 1000, clock);
    clock.advance(999);
    expect(link.closed).toBe(false);
    clock.advance(1);
    expect(link.closedHow).toBe('destroy');
    expect(await closed).toMatchObject({ code: 'LW_ERR_IDLE_TIMEOUT' });
  });

  it('counts from the last data, with one timer re-armed for the rest', async () => {
    const clock = new ManualClock();
    const link = new FakeLink();
    watchIdle(link, 1000, clock);
    for (let i = 0; i < 5; i++) {
      clock.advance(700);
      link.deliver(message('ALIVE', { serial: i }));
    }
    expect(link.closed).toBe(false);
    expect(clock.pending).toBe(1);
    clock.advance(1000);
    expect(link.closed).toBe(true);
  });

  it('leaves no timer once the link is closed', async () => {
    const clock = new ManualClock();
    const link = new FakeLink();
    watchIdle(link, 1000, clock);
    link.close();
    await new Promise<void>((resolve) => link.once('close', () => resolve()));
    expect(clock.pending).toBe(0);
  });
});
