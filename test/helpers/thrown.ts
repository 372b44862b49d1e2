import { expect } from 'vitest';
import { LogwireError } from '../../shared/errors.js';

/** The LogwireError `fn` throws; fails the test when it throws something else or nothing. */
export function thrown(fn: () => unknown): LogwireError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(LogwireError);
    return error as LogwireError;
  }
  throw new Error('expected a throw');
}
