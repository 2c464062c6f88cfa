import { useEffect, useRef, useState } from 'react';
import { unsaved } from './unsaved';

export type View = 'feed' | 'matrix' | 'sessions' | 'diff' | 'devices' | 'identifiers' | 'rules' | 'setup';
export const VIEWS: { id: View; label: string }[] = [
  { id: 'feed', label: 'Live feed' },
  { id: 'matrix', label: 'Collected' },
  { id: 'sessions', label: 'Sessions' },
  { id: 'diff', label: 'Diff' },
  { id: 'devices', label: 'Devices' },
  { id: 'identifiers', label: 'Identifiers' },
  { id: 'rules', label: 'Rules' },
  { id: 'setup', label: 'Setup' },
];

export interface Route {
  view: View;
  /** feed only: the flow whose detail is open */
  flowId?: number;
}

export function parseHash(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/');
  const view = (VIEWS.find((v) => v.id === parts[0])?.id ?? 'feed') as View;
  const id = Number(parts[1]);
  return view === 'feed' && Number.isInteger(id) && id > 0 ? { view, flowId: id } : { view };
}

export function hrefOf(route: Route): string {
  return route.flowId ? `#/${route.view}/${route.flowId}` : `#/${route.view}`;
}

export function navigate(route: Route, replace = false): void {
  const href = hrefOf(route);
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

/** The route, following the URL; a change away from an unsaved draft waits for the leave dialog (lib/unsaved.ts). */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  const current = useRef(route);
  current.current = route;
  useEffect(() => {
    const on = () => {
      const next = parseHash(location.hash);
      if (hrefOf(next) === hrefOf(current.current)) return;
      if (unsaved.mayLeaveFor(next)) return setRoute(next);
      // The URL has moved already (a link, Back): put it back while the tester decides.
      history.replaceState(null, '', hrefOf(current.current));
    };
    window.addEventListener('hashchange', on);
    window.addEventListener('popstate', on);
    return () => {
      window.removeEventListener('hashchange', on);
      window.removeEventListener('popstate', on);
    };
  }, []);
  return route;
}
