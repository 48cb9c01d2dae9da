/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0]!;
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      previous[j] = Math.min(above + 1, previous[j - 1]! + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return previous[b.length]!;
}

/**
 * The candidates closest to `wanted`: substring matches first, then by edit distance, limited to
 * plausible ones (distance at most half the length of the longer string).
 */
export function nearestNames(wanted: string, candidates: Iterable<string>, limit = 5): string[] {
  const needle = wanted.toLowerCase();
  const scored: { name: string; score: number }[] = [];
  for (const name of new Set(candidates)) {
    const hay = name.toLowerCase();
    const contains = hay.includes(needle) || needle.includes(hay);
    const distance = editDistance(needle, hay);
    const plausible =
      contains || distance <= Math.max(2, Math.floor(Math.max(needle.length, hay.length) / 2));
    if (plausible) scored.push({ name, score: contains ? distance / 10 : distance });
  }
  scored.sort((x, y) => x.score - y.score || x.name.localeCompare(y.name));
  return scored.slice(0, limit).map((entry) => entry.name);
}
