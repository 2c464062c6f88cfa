// Drafts not saved yet. While one is open, a change of route (a tab, a link, Back, a shortcut) waits for the
// tester's answer in the leave dialog, and closing or reloading the page gets the browser's own warning.
import { useEffect, useSyncExternalStore } from 'react';
import { Observable } from '../store/observable';
import type { Route } from './route';

/** The route asked for while drafts were open, and what they are ("the identifiers"). */
export interface PendingLeave {
  route: Route;
  drafts: string[];
}

class UnsavedDrafts extends Observable {
  private readonly open = new Map<symbol, string>();
  pending: PendingLeave | undefined;
  /** one route change let through without asking: the one the tester agreed to */
  private passNext = false;

  add(what: string): () => void {
    const id = Symbol(what);
    this.open.set(id, what);
    if (this.open.size === 1) window.addEventListener('beforeunload', warnOnUnload);
    return () => {
      this.open.delete(id);
      if (this.open.size === 0) window.removeEventListener('beforeunload', warnOnUnload);
    };
  }

  get any(): boolean {
    return this.open.size > 0;
  }

  /** Whether a change to `route` may go ahead now; if not, it is held until the tester answers. */
  mayLeaveFor(route: Route): boolean {
    if (this.passNext || this.open.size === 0) {
      this.passNext = false;
      return true;
    }
    this.pending = { route, drafts: [...new Set(this.open.values())] };
    this.emit();
    return false;
  }

  /** The tester's answer: `leave` lets the held route through (the drafts are dropped with their views). */
  answer(leave: boolean): Route | undefined {
    const route = this.pending?.route;
    this.pending = undefined;
    this.passNext = leave;
    this.emit();
    return leave ? route : undefined;
  }
}

function warnOnUnload(e: BeforeUnloadEvent): void {
  e.preventDefault();
  // Chrome before 119 and Safari show the warning only when returnValue is set.
  e.returnValue = '';
}

export const unsaved = new UnsavedDrafts();

/** Registers a draft while `dirty`: `what` names it in the dialog ("the rules"). */
export function useUnsaved(dirty: boolean, what: string): void {
  useEffect(() => (dirty ? unsaved.add(what) : undefined), [dirty, what]);
}

export function usePendingLeave(): PendingLeave | undefined {
  useSyncExternalStore(unsaved.subscribe, unsaved.getVersion);
  return unsaved.pending;
}
