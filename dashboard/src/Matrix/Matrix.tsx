import { useMemo, useState } from 'react';
import { IDENTIFIER_TYPES, type IdentifierType } from '../../../shared/types';
import type { SummaryResponse } from '../../../shared/api';
import { useApi, useStoreValue } from '../store/useStore';
import { store } from '../store/flowStore';
import { typeColor, typeLabel } from '../lib/labels';
import { formatDateTime } from '../lib/format';
import { EMPTY_FILTER } from '../lib/filter';
import { navigate } from '../lib/route';
import { sessionQuery } from '../store/sessionStore';
import { InstancePicker } from '../lib/InstancePicker';
import { formatRangeTime, rangeQuery } from '../lib/range';

interface Cell {
  count: number;
  firstSeen: number;
  lastSeen: number;
  /** first seen at all, whatever the time range */
  firstEver: number;
  /** how the values were written, each once */
  encodings: Set<string>;
}

/** Chips shown in a cell; the rest are counted ("+2") and named in its label. */
const MAX_CHIPS = 3;

interface Row {
  /** the registrable domain, or the tracker's name when grouped by tracker */
  domain: string;
  /** the tracker's slug, when the row is a tracker's */
  tracker?: string;
  countries: string[];
  org?: string;
  hosts: Set<string>;
  cells: Partial<Record<IdentifierType, Cell>>;
  total: number;
}

function cellLabel(type: IdentifierType, domain: string, c: Cell, isNew: boolean): string {
  const encodings = c.encodings.size ? `, encoded as ${[...c.encodings].sort().join(', ')}` : '';
  return `${typeLabel(type)} to ${domain}: ${isNew ? 'new in the selected time range, ' : ''}${c.count} ${c.count === 1 ? 'request' : 'requests'}${encodings}, first seen ${formatDateTime(c.firstSeen)}, last seen ${formatDateTime(c.lastSeen)}`;
}

type Grouping = 'domain' | 'tracker';

/** How a cell's values were written, as chips: the hashes and encodings an auditor looks for first. */
function EncodingChips({ encodings }: { encodings: Set<string> }) {
  if (encodings.size === 0) return null;
  const sorted = [...encodings].sort();
  const shown = sorted.slice(0, MAX_CHIPS);
  return (
    <span className="chips" aria-hidden="true">
      {shown.map((e) => (
        <span key={e} className={`chip${e === 'plain' ? ' plain' : ''}`} data-testid="encoding-chip">
          {e}
        </span>
      ))}
      {sorted.length > MAX_CHIPS ? <span className="chip more" title={sorted.slice(MAX_CHIPS).join(', ')}>+{sorted.length - MAX_CHIPS}</span> : null}
    </span>
  );
}

/**
 * Collected identifiers: destination × identifier type, for one device or all. A destination is a
 * registrable domain, or (grouped by tracker) the known tracker its hosts belong to; hosts of no known
 * tracker stay by domain.
 */
export function Matrix() {
  const flaggedVersion = useStoreValue((s) => s.flaggedVersion);
  const session = useStoreValue((s) => s.session);
  const range = useStoreValue((s) => s.range);
  const [instance, setInstance] = useState('');
  const query = [sessionQuery(session, '', instance), rangeQuery(range)].filter(Boolean).join('&');
  const { data, error } = useApi<SummaryResponse>(`/api/summary${query ? `?${query}` : ''}`, `${flaggedVersion}:${instance}`, 1000);
  const [device, setDevice] = useState('');
  const [grouping, setGrouping] = useState<Grouping>('domain');
  const rows = data?.rows ?? [];
  const devices = useMemo(() => [...new Set(rows.map((r) => r.device ?? '').filter(Boolean))].sort(), [rows]);

  const { table, types } = useMemo(() => {
    const byDomain = new Map<string, Row>();
    const seen = new Set<IdentifierType>();
    for (const r of rows) {
      if (device && r.device !== device) continue;
      const byTracker = grouping === 'tracker' && r.tracker !== undefined;
      const domain = byTracker ? (r.trackerName ?? r.tracker!) : r.domain || r.host;
      const key = byTracker ? `tracker:${r.tracker}` : domain;
      let row = byDomain.get(key);
      if (!row) byDomain.set(key, (row = { domain, ...(byTracker ? { tracker: r.tracker } : {}), countries: [], hosts: new Set(), cells: {}, total: 0 }));
      if (r.country && !row.countries.includes(r.country)) row.countries.push(r.country);
      row.org ??= r.org;
      row.hosts.add(r.host);
      const c = row.cells[r.type];
      const firstEver = r.firstEver ?? r.firstSeen;
      if (c) {
        c.count += r.count;
        c.firstSeen = Math.min(c.firstSeen, r.firstSeen);
        c.lastSeen = Math.max(c.lastSeen, r.lastSeen);
        c.firstEver = Math.min(c.firstEver, firstEver);
        for (const e of r.encodings) c.encodings.add(e);
      } else row.cells[r.type] = { count: r.count, firstSeen: r.firstSeen, lastSeen: r.lastSeen, firstEver, encodings: new Set(r.encodings) };
      row.total += r.count;
      seen.add(r.type);
    }
    const table = [...byDomain.values()].sort((a, b) => b.total - a.total || a.domain.localeCompare(b.domain));
    return { table, types: IDENTIFIER_TYPES.filter((t) => seen.has(t)) };
  }, [rows, device, grouping]);

  const open = (row: Row, type: IdentifierType) => {
    store.resetFilter({ ...EMPTY_FILTER, ...(row.tracker ? { tracker: row.tracker } : { host: row.domain }), type, device });
    navigate({ view: 'feed' });
  };

  return (
    <div className="page">
      <div className="page-head">
        <h2>Collected identifiers</h2>
        <InstancePicker value={instance} onChange={setInstance} testId="matrix-instance" />
        <label className="field inline">
          <span className="field-label">Device</span>
          <select value={device} onChange={(e) => setDevice(e.target.value)} data-testid="matrix-device">
            <option value="">All devices</option>
            {devices.map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </label>
        <label className="field inline">
          <span className="field-label">Group by</span>
          <select value={grouping} onChange={(e) => setGrouping(e.target.value as Grouping)} data-testid="matrix-grouping">
            <option value="domain">Domain</option>
            <option value="tracker">Tracker</option>
          </select>
        </label>
      </div>
      <p className="muted">
        Which destination received which identifier. Each cell: how many requests carried it, first and last seen. Click a cell to see those flows.
        {range ? ' With a time range, “new” marks what a destination received for the first time inside it.' : ''}
      </p>
      {range ? (
        <p className="range-note" data-testid="matrix-range">
          <span>
            Flows from <span className="mono">{formatRangeTime(range.from)}</span> to <span className="mono">{formatRangeTime(range.to)}</span> (the
            time range brushed on the feed&apos;s timeline).
          </span>
          <button type="button" onClick={() => store.setRange(undefined)}>
            Clear range
          </button>
        </p>
      ) : null}
      {error ? <p className="error-text">Could not load the summary: {error}</p> : null}
      {!data && !error ? <p className="muted">Loading…</p> : null}
      {data && table.length === 0 ? <p className="empty">No identifier has left the device yet.</p> : null}
      {table.length > 0 ? (
        <div className="matrix-wrap">
          <table className="matrix" data-testid="matrix">
            <thead>
              <tr>
                <th scope="col">Destination</th>
                {types.map((t) => (
                  <th scope="col" key={t}>
                    <span className="col-type" style={{ borderBottomColor: typeColor(t) }}>
                      {typeLabel(t)}
                    </span>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {table.map((row) => (
                <tr key={row.tracker ? `tracker:${row.tracker}` : row.domain} data-domain={row.domain} {...(row.tracker ? { 'data-tracker': row.tracker } : {})}>
                  <th scope="row" title={[...row.hosts].join('\n')}>
                    <span className="mono">{row.domain}</span>
                    {row.countries.length ? <span className="country">{row.countries.join(', ')}</span> : null}
                    {row.org ? <span className="muted small" data-testid="matrix-org"> {row.org}</span> : null}
                    <span className="muted small"> {row.hosts.size > 1 ? `${row.hosts.size} hosts` : ''}</span>
                  </th>
                  {types.map((t) => {
                    const c = row.cells[t];
                    if (!c) return <td key={t} className="cell empty-cell" aria-label={`${typeLabel(t)} to ${row.domain}: none`} />;
                    // First seen inside the brushed range: this destination got this identifier for the first time then.
                    const isNew = range !== undefined && c.firstEver >= range.from;
                    return (
                      <td key={t} className={`cell${isNew ? ' new' : ''}`} data-type={t}>
                        <button
                          type="button"
                          onClick={() => open(row, t)}
                          data-testid={`cell-${row.domain}-${t}`}
                          aria-label={cellLabel(t, row.domain, c, isNew)}
                          title={cellLabel(t, row.domain, c, isNew)}
                          style={{ borderLeftColor: typeColor(t) }}
                        >
                          <span className="cell-count">{c.count}</span>
                          {isNew ? (
                            <span className="new-badge" aria-hidden="true" data-testid="cell-new">
                              new
                            </span>
                          ) : null}
                          <EncodingChips encodings={c.encodings} />
                          <span className="cell-seen" aria-hidden="true">
                            {formatDateTime(c.firstSeen).slice(5)}
                            <br />
                            {formatDateTime(c.lastSeen).slice(5)}
                          </span>
                        </button>
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}
