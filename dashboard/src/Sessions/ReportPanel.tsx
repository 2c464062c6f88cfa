import { useState } from 'react';
import type { ReportWritten, SessionInfo } from '../../../shared/audit';
import { api } from '../store/api';

/** Writes a session's evidence bundle (report.html, report.pdf, evidence.har) into the data dir, and links to it. */
export function ReportPanel({ session, sessions, onClose }: { session: SessionInfo; sessions: SessionInfo[]; onClose: () => void }) {
  const others = sessions.filter((s) => s.id !== session.id);
  const [against, setAgainst] = useState<string>(others.length ? String(others[others.length - 1].id) : '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [written, setWritten] = useState<ReportWritten>();
  const write = async () => {
    setBusy(true);
    setError('');
    try {
      setWritten(await api<ReportWritten>('/api/reports', { method: 'POST', body: JSON.stringify({ session: session.id, ...(against ? { against: Number(against) } : {}) }) }));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const href = (file: string) => `/api/reports/${encodeURIComponent(written!.id)}/${file}`;
  return (
    <div className="report-panel" data-testid="report-panel">
      <div className="row-actions">
        <strong>Report on {session.name}</strong>
        <label className="field inline">
          <span className="field-label">Against</span>
          <select value={against} onChange={(e) => setAgainst(e.target.value)} data-testid="report-against">
            <option value="">no comparison</option>
            {others.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="primary" onClick={write} disabled={busy} data-testid="write-report">
          {busy ? 'Writing…' : 'Write report'}
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      {error ? <p className="error-text">{error}</p> : null}
      {written ? (
        <div className="report-links" data-testid="report-links">
          <a href={href('report.html')} target="_blank" rel="noreferrer noopener">
            report.html
          </a>
          <a href={href('report.pdf')} target="_blank" rel="noreferrer noopener">
            report.pdf
          </a>
          <a href={href('evidence.har')} download>
            evidence.har
          </a>
          <span className="muted small">
            in <span className="mono">{written.dir}</span> · evidence.har SHA-256 <span className="mono" data-testid="report-sha">{written.harSha256}</span>
          </span>
        </div>
      ) : null}
    </div>
  );
}
