import { LogwireError } from '../errors.js';

/** Wraps a file-system error as LW_ERR_SPOOL, saying what was being done; keeps LogwireErrors. */
export function spoolError(doing: string, error: unknown): LogwireError {
  if (error instanceof LogwireError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new LogwireError('LW_ERR_SPOOL', `cannot ${doing}: ${reason}`, { cause: error });
}
