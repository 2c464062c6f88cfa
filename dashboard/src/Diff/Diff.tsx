import { useEffect, useState } from 'react';
import type { DiffItem, DiffResult } from '../../../shared/audit';
import { useApi, useSessions } from '../store/useStore';
import { typeColor, typeLabel } from '../lib/labels';
import { formatDateTime } from '../lib/format';

function span(first: number | null, last: number | null): string {
  return first === null || last === null ? '–' : `${formatDateTime(first)} – ${formatDateTime(last).slice(11)}`;
}

function ItemsTable({ items, d, kind }: { items: DiffItem[]; d: DiffResult; kind: 'gained' | 'lost' | 'kept' }) {
  if (items.length === 0) return <p className="muted" data-testid={`diff-${kind}`}>None.</p>;
  return (
    <table className={`grid diff-${kind}`} data-testid={`diff-${kind}`}>
      <thead>
        <tr>
          <th scope="col">Device</th>
          <th scope="col">Identifier</th>
          <th scope="col">Destination</th>
          <th scope="col">Encoding</th>
          <th scope="col">In {d.a}</th>
          <th scope="col">In {d.b}</th>
          <th scope="col">First – last in {d.a}</th>
          <th scope="col">First – last in {d.b}</th>
        </tr>
      </thead>
      <tbody>
        {items.map((i) => (
          <tr key={`${i.device}|${i.type}|${i.destination}|${i.encoding}`} data-type={i.type}>
            <td>{i.device}</td>
            <td>
              <span className="badge" style={{ borderColor: typeColor(i.type) }}>{typeLabel(i.type)}</span>
            </td>
            <td className="mono">{i.destination}</td>
            <td className="mono">{i.encoding}</td>
            <td>{i.countA}</td>
            <td>{i.countB}</td>
            <td className="small">{span(i.firstSeenA, i.lastSeenA)}</td>
            <td className="small">{span(i.firstSeenB, i.lastSeenB)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Before and after: what one session sent that another did not, per device, identifier, destination, encoding. */
export function Diff() {
  const s = useSessions();
  const list = s.sessions;
  const [a, setA] = useState('');
  const [b, setB] = useState('');
  const [device, setDevice] = useState('');
  // Default: the last two sessions, older first.
  useEffect(() => {
    if (!a && !b && list.length >= 2) {
      setA(String(list[list.length - 2].id));
      setB(String(list[list.length - 1].id));
    }
  }, [list, a, b]);
  const ready = a !== '' && b !== '';
  const query = `/api/diff?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}${device ? `&device=${encodeURIComponent(device)}` : ''}`;
  const { data, error } = useApi<DiffResult>(ready ? query : undefined, 0, 300);
  const diff = ready ? data : undefined;
  const picker = (label: string, value: string, set: (v: string) => void, testid: string) => (
    <label className="field inline">
      <span className="field-label">{label}</span>
      <select value={value} onChange={(e) => set(e.target.value)} data-testid={testid}>
        <option value="">choose a session</option>
        {list.map((x) => (
          <option key={x.id} value={x.id}>
            {x.name}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <div className="page">
      <div className="page-head">
        <h2>Diff</h2>
        <div className="row-actions">
          {picker('Before', a, setA, 'diff-a')}
          {picker('After', b, setB, 'diff-b')}
          <label className="field inline">
            <span className="field-label">Device</span>
            <input value={device} onChange={(e) => setDevice(e.target.value)} placeholder="all devices" data-testid="diff-device" />
          </label>
        </div>
      </div>
      <p className="muted">What left the phone in one session and not in the other. The same comparison as <code>leakscope diff</code>; its exit code with <code>--fail-on-new</code> follows “Gained”.</p>
      {list.length < 2 ? <p className="empty">A diff needs two sessions: start a new one in Sessions.</p> : null}
      {error ? <p className="error-text">{error}</p> : null}
      {diff ? (
        <div data-testid="diff">
          <p className="diff-totals">
            <span className="pill gained">{diff.gained.length} gained</span> <span className="pill lost">{diff.lost.length} lost</span> <span className="pill">{diff.kept.length} kept</span>
          </p>
          <h3>Gained: sent in {diff.b}, not in {diff.a}</h3>
          <ItemsTable items={diff.gained} d={diff} kind="gained" />
          <h3>Lost: sent in {diff.a}, not in {diff.b}</h3>
          <ItemsTable items={diff.lost} d={diff} kind="lost" />
          <h3>Kept</h3>
          <ItemsTable items={diff.kept} d={diff} kind="kept" />
          <h3>Destinations and countries</h3>
          <ul className="diff-facts" data-testid="diff-destinations">
            <li>New destinations: {diff.destinations.new.map((x) => `${x.destination} (${x.flows} flows${x.flagged ? `, ${x.flagged} flagged` : ''})`).join(', ') || 'none'}</li>
            <li>No longer contacted: {diff.destinations.gone.map((x) => x.destination).join(', ') || 'none'}</li>
            <li>Countries newly receiving identifiers: {diff.countries.gained.join(', ') || 'none'}</li>
            <li>Countries no longer receiving them: {diff.countries.lost.join(', ') || 'none'}</li>
          </ul>
        </div>
      ) : null}
    </div>
  );
}
