import { useEffect, useState } from 'react';
import { store } from '../store/flowStore';
import { formatRangeTime, parseRangeTime, type TimeRange } from '../lib/range';

/** The time range as two fields: what a brush set, or typed (the keyboard's way to a range); and a clear. */
export function RangeFields({ range, unit }: { range: TimeRange | undefined; unit: string }) {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [error, setError] = useState('');
  useEffect(() => {
    setFrom(range ? formatRangeTime(range.from) : '');
    setTo(range ? formatRangeTime(range.to) : '');
    setError('');
  }, [range]);
  const apply = () => {
    const a = parseRangeTime(from);
    const b = parseRangeTime(to);
    if (a === undefined || b === undefined) return setError('Times as YYYY-MM-DD HH:MM:SS');
    if (a >= b) return setError('From must come before To');
    setError('');
    store.setRange({ from: a, to: b });
  };
  return (
    <form
      className="range-fields"
      aria-label="Time range"
      onSubmit={(e) => {
        e.preventDefault();
        apply();
      }}
    >
      <span className="muted" title="Drag across the timeline to select a time range, or type one here">
        flows per {unit} · time range (drag, or type):
      </span>
      <label>
        <span className="sr-only">From</span>
        <input value={from} onChange={(e) => setFrom(e.target.value)} placeholder="YYYY-MM-DD HH:MM" data-testid="range-from" />
      </label>
      –
      <label>
        <span className="sr-only">To</span>
        <input value={to} onChange={(e) => setTo(e.target.value)} placeholder="YYYY-MM-DD HH:MM" data-testid="range-to" />
      </label>
      <button type="submit" data-testid="range-apply">Set range</button>
      {range ? (
        <button type="button" onClick={() => store.setRange(undefined)} data-testid="range-clear">
          Clear range
        </button>
      ) : null}
      {error ? <span className="error-text" role="alert">{error}</span> : null}
    </form>
  );
}
