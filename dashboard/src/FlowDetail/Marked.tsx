import { Fragment, useContext, type ReactNode } from 'react';
import { HitsContext, withHits } from './hits';
import type { Finding } from '../../../shared/types';
import { markRanges } from '../lib/paths';
import { typeLabel } from '../lib/labels';

export interface MarkItem {
  /** index of the finding in flow.findings */
  tag: number;
  finding: Finding;
}

export function markLabel(f: Finding): string {
  return `${typeLabel(f.type)} · ${f.encoding}`;
}

/**
 * `text` as plain text, with <mark> around each finding's place. With `wholeIfMissing` a finding whose value
 * does not occur literally (hashed, encoded) marks the whole text: its path already put it here.
 * The search box's terms are marked too (search-hit). Text only: captured content never becomes markup.
 */
export function Marked({ text, items, wholeIfMissing = true }: { text: string; items: MarkItem[]; wholeIfMissing?: boolean }): ReactNode {
  const terms = useContext(HitsContext);
  if (items.length === 0) return withHits(text, terms);
  const ranges = markRanges(
    text,
    items.map((i) => ({ tag: i.tag, value: i.finding.value })),
    wholeIfMissing,
  );
  const out: ReactNode[] = [];
  let pos = 0;
  for (const r of ranges) {
    if (r.start > pos) out.push(<Fragment key={`t${pos}`}>{withHits(text.slice(pos, r.start), terms)}</Fragment>);
    const fs = r.tags.map((t) => items.find((i) => i.tag === t)!.finding);
    out.push(
      <mark
        key={`${r.start}-${r.end}`}
        className="finding-mark"
        data-finding={r.tags.join(' ')}
        data-type={fs.map((f) => f.type).join(' ')}
        data-label={fs.map(markLabel).join(', ')}
        title={fs.map((f) => `${typeLabel(f.type)} (${f.confidence}) · encoding ${f.encoding} · ${f.where} ${f.path}`).join('\n')}
      >
        {text.slice(r.start, r.end) || '(empty)'}
      </mark>,
    );
    pos = r.end;
  }
  if (pos < text.length) out.push(<Fragment key={`t${pos}`}>{withHits(text.slice(pos), terms)}</Fragment>);
  return out;
}
