/**
 * commander's accumulator for a flag that may be given several times (`--listen a --listen b`).
 * It starts from nothing rather than a `[]` default, which commander would print in --help as
 * `(default: [])` beside the flag's real default.
 */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
