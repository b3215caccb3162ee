/**
 * The task functions of the futures-style word count (examples/word-count.ts --futures): they
 * read files, so they use an import, and travel to workers as this module's registered exports.
 */
import { readFileSync } from 'node:fs';
import { registerModule } from '../src/index.js';

/** The manual's count_words: each word of one file and how often it occurs. */
export function countWords(filename: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const word of readFileSync(filename, 'utf8').split(/\s+/)) {
    if (word) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  return counts;
}

/** The manual's top_items: the n most frequent words of one file's counts. */
export function topItems(counts: Map<string, number>, n = 10): [string, number][] {
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, n);
}

registerModule(import.meta.url, { countWords, topItems });
