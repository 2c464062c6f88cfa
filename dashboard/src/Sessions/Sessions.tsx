import { useEffect, useState } from 'react';
import type { SessionInfo } from '../../../shared/audit';
import { useSessions } from '../store/useStore';
import { formatDateTime } from '../lib/format';
import { navigate } from '../lib/route';
import { useUnsaved } from '../lib/unsaved';
import { ReportPanel } from './ReportPanel';
import { Timeline } from './Timeline';

/** One text field and a button: start a session, add a marker, rename. */
function TextAction(props: { label: string; button: string; placeholder: string; testid: string; initial?: string; maxLength: number; onSubmit: (text: string) => Promise<unknown>; allowEmpty?: boolean }) {
  const [text, setText] = useState(props.initial ?? '');
  const [busy, setBusy] = useState(false);
  useUnsaved(text.trim() !== (props.initial ?? '').trim(), `the field "${props.label}"`);
  return (
    <form
      className="text-action"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!props.allowEmpty && !text.trim()) return;
        setBusy(true);
        try {
          if ((await props.onSubmit(text)) !== undefined) setText(props.initial ?? '');
        } finally {
          setBusy(false);
        }
      }}
    >
      <label className="sr-only" htmlFor={props.testid}>
        {props.label}
      </label>
      <input id={props.testid} value={text} onChange={(e) => setText(e.target.value)} placeholder={props.placeholder} maxLength={props.maxLength} data-testid={props.testid} />
      <button type="submit" disabled={busy} data-testid={`${props.testid}-submit`}>
        {props.button}
      </button>
    </form>
  );
}

function SessionRow({ session, onReport }: { session: SessionInfo; onReport: () => void }) {
  const s = useSessions();
  const [renaming, setRenaming] = useState(false);
  return (
    <tr data-session={session.name} className={session.current ? 'current' : undefined}>
      <td>
        {renaming ? (
          <TextAction label={`New name for ${session.name}`} button="Save" placeholder="session name" testid={`rename-${session.id}`} initial={session.name} maxLength={100} onSubmit={async (name) => {
            const done = await s.rename(session.id, name);
            if (done) setRenaming(false);
            return done;
          }} />
        ) : (
          <>
            <strong>{session.name}</strong> {session.current ? <span className="pill rec">recording</span> : null}{' '}
            <button type="button" className="link-button" onClick={() => setRenaming(true)} data-testid={`rename-open-${session.id}`}>
              rename
            </button>
          </>
        )}
      </td>
      <td className="mono small">{formatDateTime(session.started)}</td>
      <td className="mono small">{session.ended ? formatDateTime(session.ended) : '–'}</td>
      <td>
        <button type="button" className="link-button" onClick={() => (s.select(session.id), navigate({ view: 'feed' }))}>
          {session.flows.toLocaleString()}
        </button>
      </td>
      <td>{session.flagged.toLocaleString()}</td>
      <td>{session.markers.length}</td>
      <td className="row-actions">
        {session.ended ? null : (
          <button type="button" onClick={() => void s.end(session.id)} data-testid={`end-${session.id}`}>
            End
          </button>
        )}
        <button type="button" onClick={onReport} data-testid={`report-${session.id}`}>
          Report
        </button>
      </td>
    </tr>
  );
}

/** Capture sessions: start, end and rename them, log markers (the stimulus log), see them on a timeline, report. */
export function Sessions() {
  const s = useSessions();
  const [reportOn, setReportOn] = useState<number>();
  const current = s.current;
  const reported = s.byId(reportOn);
  // Flow counts move while a session records: refresh them every few seconds while this view is open.
  useEffect(() => {
    void s.load();
    const t = setInterval(() => void s.load(), 3000);
    return () => clearInterval(t);
  }, [s]);
  return (
    <div className="page">
      <h2>Sessions</h2>
      <p className="muted">
        Every flow belongs to a capture session. Start one per step of a test (before and after an update, say), note what you do to the phone as
        markers, then compare two sessions in <a href="#/diff">Diff</a> or write a session&apos;s evidence report.
      </p>
      <div className="session-controls">
        <p data-testid="recording">
          {current ? (
            <>
              Recording into <strong>{current.name}</strong> since {formatDateTime(current.started)}.
            </>
          ) : (
            'No session is open: the next flow starts one, named by its time.'
          )}
        </p>
        <TextAction label="Name of the new session" button="Start new session" placeholder="name (default: its start time)" testid="session-name" maxLength={100} allowEmpty onSubmit={(name) => s.start(name)} />
        <TextAction label="Marker text" button="Add marker" placeholder="e.g. SIM inserted, opened Contacts" testid="marker-text" maxLength={500} onSubmit={(text) => s.addMarker(text)} />
      </div>
      {s.error ? <p className="error-text" role="alert">{s.error}</p> : null}
      <h3>Timeline</h3>
      <Timeline sessions={s.sessions} now={Date.now()} />
      <h3>All sessions</h3>
      <table className="grid" data-testid="sessions">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Started</th>
            <th scope="col">Ended</th>
            <th scope="col">Flows</th>
            <th scope="col">Flagged</th>
            <th scope="col">Markers</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {s.sessions.map((x) => (
            <SessionRow key={`${x.id}-${x.name}`} session={x} onReport={() => setReportOn(x.id)} />
          ))}
        </tbody>
      </table>
      {reported ? <ReportPanel key={reported.id} session={reported} sessions={s.sessions} onClose={() => setReportOn(undefined)} /> : null}
    </div>
  );
}
