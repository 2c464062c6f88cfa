import type { SessionInfo } from '../../../shared/audit';
import { formatDateTime } from '../lib/format';

/** Sessions as bars on one time axis, markers as ticks on them; the list below says the same in words. */
export function Timeline({ sessions, now }: { sessions: SessionInfo[]; now: number }) {
  if (sessions.length === 0) return <p className="empty">No session yet.</p>;
  const endOf = (s: SessionInfo) => s.ended ?? Math.max(now, s.lastFlow ?? s.started);
  const from = Math.min(...sessions.map((s) => s.started));
  const to = Math.max(...sessions.map(endOf));
  const span = Math.max(to - from, 1);
  const pos = (t: number) => `${((100 * (t - from)) / span).toFixed(3)}%`;
  const events = sessions
    .flatMap((s) => [
      { time: s.started, text: `${s.name} started`, kind: 'session' },
      ...s.markers.map((m) => ({ time: m.time, text: m.text, kind: 'marker', session: s.name })),
      ...(s.ended ? [{ time: s.ended, text: `${s.name} ended`, kind: 'session' }] : []),
    ])
    .sort((a, b) => a.time - b.time);
  return (
    <div className="timeline" data-testid="timeline">
      <div className="timeline-axis" aria-hidden="true">
        {sessions.map((s) => (
          <div key={s.id} className={`timeline-bar${s.current ? ' current' : ''}`} style={{ left: pos(s.started), width: `max(4px, calc(${pos(endOf(s))} - ${pos(s.started)}))` }} title={s.name}>
            <span className="timeline-label">{s.name}</span>
            {s.markers.map((m) => (
              <span key={m.id} className="timeline-marker" style={{ left: `calc(${(100 * (m.time - s.started)) / Math.max(endOf(s) - s.started, 1)}% - 1px)` }} title={`${formatDateTime(m.time)} ${m.text}`} />
            ))}
          </div>
        ))}
      </div>
      <ol className="timeline-events">
        {events.map((e, i) => (
          <li key={i} className={e.kind} data-kind={e.kind}>
            <span className="mono small">{formatDateTime(e.time)}</span> {e.kind === 'marker' ? <span className="marker-dot" aria-label="marker">◆</span> : null} {e.text}
          </li>
        ))}
      </ol>
    </div>
  );
}
