import { describe, expect, it } from 'vitest';
import { SourceRenewal } from '../../../shared/sender/source-renewal.js';

describe('SourceRenewal', () => {
  it('takes the fresh id once the renewal resolves, and is pending until then', async () => {
    let give!: (id: string) => void;
    const renewal = new SourceRenewal('old', () => new Promise((resolve) => (give = resolve)));
    expect(renewal.pending).toBeUndefined();
    renewal.renew('sequence_behind');
    const pending = renewal.pending;
    expect(pending).toBeInstanceOf(Promise);
    expect(renewal.source).toBe('old');
    give('new');
    await pending;
    expect(renewal.source).toBe('new');
    expect(renewal.pending).toBeUndefined();
  });

  it('keeps the old id when the renewal fails, and never rejects', async () => {
    const renewal = new SourceRenewal('old', () => Promise.reject(new Error('spool read-only')));
    renewal.renew('READY last is at or above next');
    await expect(renewal.pending).resolves.toBeUndefined();
    expect(renewal.source).toBe('old');
    expect(renewal.pending).toBeUndefined();
  });
});
