/** commander's accumulator for a flag that may be given several times (`--listen a --listen b`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
