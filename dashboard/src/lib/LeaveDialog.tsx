import { useEffect, useRef } from 'react';
import { navigate } from './route';
import { unsaved, usePendingLeave } from './unsaved';
import { useWindowKeys } from './keys';

const listed = (drafts: string[]) => (drafts.length === 1 ? drafts[0] : `${drafts.slice(0, -1).join(', ')} and ${drafts[drafts.length - 1]}`);

/**
 * Asks before a change of view drops unsaved drafts. A modal <dialog>: the page behind is inert, focus starts on
 * Stay (the safe answer, first), Escape stays, and no shortcut reaches the feed behind it.
 */
export function LeaveDialog() {
  const pending = usePendingLeave();
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (pending && !d.open) d.showModal();
    if (!pending && d.open) d.close();
  }, [pending]);
  const answer = (leave: boolean) => {
    const route = unsaved.answer(leave);
    if (route) navigate(route);
  };
  useWindowKeys((e) => {
    if (!pending) return false;
    e.stopPropagation();
    if (e.key !== 'Escape') return false;
    answer(false);
    return true;
  }, true);
  return (
    <dialog ref={dialog} className="leave-dialog" aria-labelledby="leave-title" aria-describedby="leave-text" data-testid="leave-dialog" onCancel={(e) => (e.preventDefault(), answer(false))}>
      {pending ? (
        <>
          <h2 id="leave-title">Leave without saving?</h2>
          <p id="leave-text">Your changes to {listed(pending.drafts)} are not saved. If you leave, they are lost.</p>
          <div className="row-actions">
            <button type="button" className="primary" onClick={() => answer(false)} data-testid="leave-stay">
              Stay and keep editing
            </button>
            <button type="button" className="danger" onClick={() => answer(true)} data-testid="leave-discard">
              Leave and discard
            </button>
          </div>
        </>
      ) : null}
    </dialog>
  );
}
