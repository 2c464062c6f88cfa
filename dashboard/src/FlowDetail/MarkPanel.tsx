import { useEffect, useState } from 'react';
import type { MarkRequest } from '../../../shared/api';
import type { Flow } from '../../../shared/types';
import { api } from '../store/api';
import { store } from '../store/flowStore';
import { useUnsaved } from '../lib/unsaved';

/** Mark a flow and note why (PUT /api/flows/:id/mark); the comment is shown as text only. */
export function MarkPanel({ flow, onSaved }: { flow: Flow; onSaved: (flow: Flow) => void }) {
  const [marked, setMarked] = useState(flow.marked === true);
  const [comment, setComment] = useState(flow.comment ?? '');
  const [status, setStatus] = useState('');
  useUnsaved(comment !== (flow.comment ?? ''), `the comment on flow ${flow.id}`);
  useEffect(() => {
    setMarked(flow.marked === true);
    setComment(flow.comment ?? '');
  }, [flow]);
  const save = async (next: MarkRequest) => {
    setStatus('Saving…');
    try {
      const saved = await api<Flow>(`/api/flows/${flow.id}/mark`, { method: 'PUT', body: JSON.stringify(next) });
      store.patchMark(saved.id, saved.marked === true, saved.comment);
      onSaved(saved);
      setStatus('Saved');
    } catch (err) {
      setStatus(`Not saved: ${(err as Error).message}`);
    }
  };
  return (
    <section className="detail-section mark-panel" aria-label="Mark and comment">
      <label className="check">
        <input
          type="checkbox"
          checked={marked}
          data-testid="mark-flow"
          onChange={(e) => {
            setMarked(e.target.checked);
            void save({ marked: e.target.checked, comment });
          }}
        />
        Marked
      </label>
      <label className="field">
        <span className="field-label">Comment</span>
        <textarea value={comment} rows={2} maxLength={4000} data-testid="mark-comment" onChange={(e) => setComment(e.target.value)} />
      </label>
      <button type="button" data-testid="save-comment" disabled={comment === (flow.comment ?? '')} onClick={() => void save({ marked, comment })}>
        Save comment
      </button>
      {status ? (
        <span className="muted small" role="status">
          {status}
        </span>
      ) : null}
    </section>
  );
}
