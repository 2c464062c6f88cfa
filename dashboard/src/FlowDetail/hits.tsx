// Highlighting what the search box looked for, wherever the detail shows captured text (always as text).
import { createContext, Fragment, type ReactNode } from 'react';
import { parseFilter, searchTerms } from '../../../shared/filter';

/** The search box's text terms, lower-cased; empty when it holds none (or a bad expression). */
export const HitsContext = createContext<string[]>([]);

export function termsOf(expression: string): string[] {
  if (!expression.trim()) return [];
  try {
    return [...new Set(searchTerms(parseFilter(expression)).map((t) => t.toLowerCase()).filter(Boolean))];
  } catch {
    return [];
  }
}

/** `text` with each case-insensitive occurrence of a term in <mark class="search-hit">. */
export function withHits(text: string, terms: string[]): ReactNode {
  if (terms.length === 0 || text === '') return text;
  const lower = text.toLowerCase();
  const out: ReactNode[] = [];
  let pos = 0;
  while (pos < text.length) {
    let at = -1;
    let len = 0;
    for (const t of terms) {
      const i = lower.indexOf(t, pos);
      if (i >= 0 && (at < 0 || i < at || (i === at && t.length > len))) (at = i), (len = t.length);
    }
    // toLowerCase keeps lengths for the text a tester types; where it would not, the match is not marked
    if (at < 0 || lower.length !== text.length) break;
    if (at > pos) out.push(text.slice(pos, at));
    out.push(
      <mark key={at} className="search-hit" data-testid="search-hit">
        {text.slice(at, at + len)}
      </mark>,
    );
    pos = at + len;
  }
  if (pos < text.length) out.push(text.slice(pos));
  return <Fragment>{out}</Fragment>;
}
