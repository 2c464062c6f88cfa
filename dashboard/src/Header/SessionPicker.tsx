import { useEffect } from 'react';
import { useSessions } from '../store/useStore';

/** Narrows every view to one capture session, or shows them all. */
export function SessionPicker() {
  const s = useSessions();
  useEffect(() => {
    void s.load();
  }, [s]);
  return (
    <label className="field inline session-picker">
      <span className="field-label">Session</span>
      <select
        value={s.selected ?? ''}
        onChange={(e) => s.select(e.target.value === '' ? undefined : Number(e.target.value))}
        data-testid="session-picker"
      >
        <option value="">All sessions</option>
        {s.sessions.map((x) => (
          <option key={x.id} value={x.id}>
            {x.name}
            {x.current ? ' (recording)' : ''}
          </option>
        ))}
      </select>
    </label>
  );
}
