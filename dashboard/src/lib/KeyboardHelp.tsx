import { useState } from 'react';
import { isTyping, SHORTCUTS, useWindowKeys } from './keys';

/** `?` opens the list of shortcuts; `?` or Escape closes it. */
export function KeyboardHelp() {
  const [open, setOpen] = useState(false);
  useWindowKeys((e) => {
    if (e.key === '?' && !isTyping(e.target)) {
      setOpen((o) => !o);
      return true;
    }
    if (e.key === 'Escape' && open) {
      // Escape here closes the help only, not the detail behind it.
      e.stopPropagation();
      setOpen(false);
      return true;
    }
    return false;
  }, true);
  if (!open) return null;
  return (
    <div className="help-overlay" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts" data-testid="keyboard-help" onClick={() => setOpen(false)}>
      <div className="help-box" onClick={(e) => e.stopPropagation()}>
        <h2>Keyboard shortcuts</h2>
        <table className="grid">
          <tbody>
            {SHORTCUTS.map((s) => (
              <tr key={s.keys}>
                <th scope="row">
                  <kbd>{s.keys}</kbd>
                </th>
                <td>{s.does}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <button type="button" onClick={() => setOpen(false)} autoFocus>
          Close
        </button>
      </div>
    </div>
  );
}
