import { useEffect, useRef } from 'react';

/** Whether a key press belongs to a text field (a single-key shortcut must not steal the letter). */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(target.type);
}

/**
 * Page-wide shortcuts: `handler` sees every keydown on the window (the latest handler, without re-subscribing on
 * each render) and returns true when it used the key. Overlays listen in the capture phase (`capture`), so they can
 * stop an Escape meant for them before it closes the detail behind them.
 */
export function useWindowKeys(handler: (e: KeyboardEvent) => boolean, capture = false): void {
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
      if (latest.current(e)) e.preventDefault();
    };
    window.addEventListener('keydown', onKey, capture);
    return () => window.removeEventListener('keydown', onKey, capture);
  }, [capture]);
}

/** The shortcuts, as the help overlay lists them. */
export const SHORTCUTS: { keys: string; does: string }[] = [
  { keys: '/', does: 'Focus the search box' },
  { keys: 'j / k', does: 'Next / previous flow in the feed (opens it when the detail is open)' },
  { keys: '↑ ↓ PageUp PageDown Home End', does: 'Move in the feed list' },
  { keys: 'Enter', does: 'Open the selected flow' },
  { keys: 'Escape', does: 'Close the detail, a menu or this help' },
  { keys: '?', does: 'Show or hide this help' },
];
