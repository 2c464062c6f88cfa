import type { ReactNode } from 'react';
import type { Body } from '../../../shared/types';
import { collectPaths, locate, parsePath, pathKey, type Segment } from '../lib/paths';
import { Marked, type MarkItem } from './Marked';
import { formatSize } from '../lib/format';

const MAX_SHOWN = 200_000;

function headerValue(ct: string | undefined): string {
  return (ct ?? '').toLowerCase();
}

function tryJson(text: string): { ok: true; value: unknown } | { ok: false } {
  const t = text.trim();
  if (!(t.startsWith('{') || t.startsWith('[') || t.startsWith('"'))) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(t) };
  } catch {
    return { ok: false };
  }
}

/** Pretty-printed JSON as text nodes, marking the values (or keys of containers) that findings point at. */
function JsonTree({ value, marks }: { value: unknown; marks: Map<string, MarkItem[]> }) {
  const render = (v: unknown, path: Segment[], indent: string): ReactNode[] => {
    const key = pathKey(path);
    const here = marks.get(key);
    if (v !== null && typeof v === 'object') {
      const isArr = Array.isArray(v);
      const entries: [Segment, unknown][] = isArr ? (v as unknown[]).map((x, i) => [i, x]) : Object.entries(v as Record<string, unknown>);
      if (entries.length === 0) return [isArr ? '[]' : '{}'];
      const inner = indent + '  ';
      const out: ReactNode[] = [isArr ? '[\n' : '{\n'];
      entries.forEach(([k, child], i) => {
        out.push(inner);
        if (!isArr) {
          const childKey = pathKey([...path, k]);
          const childMarks = marks.get(childKey);
          const childIsContainer = child !== null && typeof child === 'object';
          out.push(
            <span className="j-key" key={`k${childKey}`}>
              {childIsContainer && childMarks ? <Marked text={JSON.stringify(k)} items={childMarks} /> : JSON.stringify(k)}
            </span>,
            ': ',
          );
        }
        out.push(...render(child, [...path, k], inner));
        out.push(i < entries.length - 1 ? ',\n' : '\n');
      });
      out.push(indent + (isArr ? ']' : '}'));
      return out;
    }
    const text = JSON.stringify(v);
    const cls = typeof v === 'string' ? 'j-str' : typeof v === 'number' ? 'j-num' : 'j-lit';
    return [
      <span className={cls} key={`v${key}`}>
        <Marked text={text} items={here ?? []} />
      </span>,
    ];
  };
  return <>{render(value, [], '')}</>;
}

/**
 * A request or response body: JSON pretty-printed, forms as a table, anything else as text; every body finding
 * marked where its path (or, failing that, its literal value) puts it.
 */
export function BodyView({ body, contentType, items = [], testid }: { body?: Body; contentType?: string; items?: MarkItem[]; testid?: string }) {
  if (!body || (body.size === 0 && !body.text)) return <p className="muted">No body.</p>;
  const ct = headerValue(contentType);
  const meta = (
    <p className="muted small">
      {formatSize(body.size)}
      {body.decoded ? ` · ${body.decoded} decoded` : ''}
      {body.encoding === 'base64' ? ' · binary, shown as base64' : ''}
      {body.truncated ? ' · truncated' : ''}
      {contentType ? ` · ${contentType}` : ''}
    </p>
  );
  const text = body.text.length > MAX_SHOWN ? body.text.slice(0, MAX_SHOWN) : body.text;
  const cut = body.text.length > MAX_SHOWN ? <p className="muted small">Showing the first {MAX_SHOWN.toLocaleString()} characters.</p> : null;

  if (body.encoding !== 'base64') {
    const json = ct.includes('json') || !ct.includes('form') ? tryJson(text) : { ok: false as const };
    if (json.ok) {
      const present = collectPaths(json.value);
      const marks = new Map<string, MarkItem[]>();
      const lost: MarkItem[] = [];
      for (const it of items) {
        const at = locate(it.finding.path, present);
        if (at !== undefined && at !== '') marks.set(at, [...(marks.get(at) ?? []), it]);
        else lost.push(it);
      }
      return (
        <div data-testid={testid}>
          {meta}
          <pre className="code body-json">
            <JsonTree value={json.value} marks={marks} />
          </pre>
          {lost.length ? <Unplaced items={lost} /> : null}
          {cut}
        </div>
      );
    }
    if (ct.includes('x-www-form-urlencoded') || (!ct && /^[^=&\s]+=[^&\s]*(&[^=&\s]+=[^&\s]*)*$/.test(text.trim()))) {
      const rows = [...new URLSearchParams(text).entries()];
      const placed = new Set<number>();
      const forRow = (k: string) =>
        items.filter((it) => {
          const p = it.finding.path;
          const hit = p === k || parsePath(p)[0] === k;
          if (hit) placed.add(it.tag);
          return hit;
        });
      const rendered = rows.map(([k, v], i) => {
        const its = forRow(k);
        return (
          <tr key={i}>
            <th scope="row">{k}</th>
            <td className="mono">
              <Marked text={v} items={its} />
            </td>
          </tr>
        );
      });
      const lost = items.filter((it) => !placed.has(it.tag));
      return (
        <div data-testid={testid}>
          {meta}
          <table className="kv form-table">
            <tbody>{rendered}</tbody>
          </table>
          {lost.length ? <Unplaced items={lost} /> : null}
          {cut}
        </div>
      );
    }
  }
  return (
    <div data-testid={testid}>
      {meta}
      <pre className="code">
        <Marked text={text} items={items} wholeIfMissing={false} />
      </pre>
      {cut}
    </div>
  );
}

function Unplaced({ items }: { items: MarkItem[] }) {
  return (
    <p className="muted small">
      Not located in the shown body (path not found): {items.map((i) => `${i.finding.type} at ${i.finding.path}`).join('; ')}
    </p>
  );
}
