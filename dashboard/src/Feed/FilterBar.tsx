import { useEffect, useState } from 'react';
import { IDENTIFIER_TYPES } from '../../../shared/types';
import { useStore } from '../store/useStore';
import { typeLabel } from '../lib/labels';
import { isEmptyFilter, type FeedFilter } from '../lib/filter';
import { ExpressionInput } from './ExpressionInput';

/** A text input that writes to the store after a short pause in typing. */
function DebouncedInput(props: { value: string; onChange: (v: string) => void; label: string; placeholder: string; testid: string }) {
  const [local, setLocal] = useState(props.value);
  useEffect(() => setLocal(props.value), [props.value]);
  useEffect(() => {
    if (local === props.value) return;
    const t = setTimeout(() => props.onChange(local), 150);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [local]);
  return (
    <label className="field">
      <span className="field-label">{props.label}</span>
      <input
        type="text"
        value={local}
        placeholder={props.placeholder}
        data-testid={props.testid}
        onChange={(e) => setLocal(e.target.value)}
        onKeyDown={(e) => e.key === 'Enter' && props.onChange(local)}
      />
    </label>
  );
}

export function FilterBar() {
  const s = useStore();
  const f = s.filter;
  const set = (patch: Partial<FeedFilter>) => s.setFilter(patch);
  const devices = [...s.devices.entries()].sort((a, b) => (a[1] ?? a[0]).localeCompare(b[1] ?? b[0]));
  return (
    <form className="filters" role="search" aria-label="Filter flows" onSubmit={(e) => e.preventDefault()}>
      <ExpressionInput value={f.q} onChange={(q) => set({ q })} serverError={s.filterError} />
      <label className="field">
        <span className="field-label">Device</span>
        <select value={f.device} onChange={(e) => set({ device: e.target.value })} data-testid="filter-device">
          <option value="">All devices</option>
          {f.device && !s.devices.has(f.device) && ![...s.devices.values()].includes(f.device) ? <option value={f.device}>{f.device}</option> : null}
          {devices.map(([client, name]) => (
            <option key={client} value={name || client}>
              {name ? `${name} (${client})` : client}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span className="field-label">Identifier</span>
        <select value={f.type} onChange={(e) => set({ type: e.target.value as FeedFilter['type'] })} data-testid="filter-type">
          <option value="">Any type</option>
          {IDENTIFIER_TYPES.map((t) => (
            <option key={t} value={t}>
              {typeLabel(t)}
            </option>
          ))}
        </select>
      </label>
      <DebouncedInput label="Host" placeholder="host contains" value={f.host} onChange={(host) => set({ host })} testid="filter-host" />
      <label className="field">
        <span className="field-label">Tracker</span>
        <select value={f.tracker} onChange={(e) => set({ tracker: e.target.value })} data-testid="filter-tracker">
          <option value="">Any tracker</option>
          {f.tracker && !s.trackers.has(f.tracker) ? <option value={f.tracker}>{f.tracker}</option> : null}
          {[...s.trackers.entries()]
            .sort((a, b) => a[1].localeCompare(b[1]))
            .map(([slug, name]) => (
              <option key={slug} value={slug}>
                {name}
              </option>
            ))}
        </select>
      </label>
      <label className="field">
        <span className="field-label">Confidence</span>
        <select value={f.confidence} onChange={(e) => set({ confidence: e.target.value as FeedFilter['confidence'] })} data-testid="filter-confidence">
          <option value="">Any</option>
          <option value="known">Known value</option>
          <option value="pattern">Pattern</option>
          <option value="tracker">Tracker format</option>
        </select>
      </label>
      <label className="check">
        <input type="checkbox" checked={f.flagged} onChange={(e) => set({ flagged: e.target.checked })} data-testid="filter-flagged" />
        Flagged only
      </label>
      {!isEmptyFilter(f) ? (
        <button type="button" className="link-button" onClick={() => s.resetFilter()}>
          Reset filters
        </button>
      ) : null}
    </form>
  );
}
