import { useEffect, useRef, useState } from 'react';
import type { Route } from '../lib/route';
import { useWindowKeys } from '../lib/keys';

/**
 * The header's Export HAR menu. It is a popover, not a <details>: it must close after a choice, on Escape, on a
 * click elsewhere and when the view changes, none of which <details> does by itself.
 */
export function ExportMenu({ query, route }: { query: string; route: Route }) {
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => setOpen(false), [route.view, route.flowId]);
  useWindowKeys((e) => {
    if (!open || e.key !== 'Escape') return false;
    // Escape closes the menu only; the detail behind it stays open.
    e.stopPropagation();
    setOpen(false);
    button.current?.focus();
    return true;
  }, true);
  useEffect(() => {
    if (!open) return;
    const onPointer = (e: PointerEvent) => {
      if (!box.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', onPointer, true);
    return () => document.removeEventListener('pointerdown', onPointer, true);
  }, [open]);

  const close = () => setOpen(false);
  return (
    <div className="export" ref={box}>
      <button type="button" ref={button} aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen(!open)} data-testid="export-menu">
        Export HAR
      </button>
      {open ? (
        <div className="menu" role="menu" data-testid="export-options">
          <a role="menuitem" href="/api/export.har" download onClick={close}>
            Everything
          </a>
          <a role="menuitem" href="/api/export.har?flagged=1" download onClick={close}>
            Flagged only
          </a>
          {query ? (
            <a role="menuitem" href={`/api/export.har?${query}`} download onClick={close} data-testid="export-filter">
              Current filter, session and time range
            </a>
          ) : (
            <span role="menuitem" aria-disabled="true" className="disabled" data-testid="export-filter" title="Set a filter, pick a session or brush a time range first">
              Current filter, session and time range (none set)
            </span>
          )}
        </div>
      ) : null}
    </div>
  );
}
