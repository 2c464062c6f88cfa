import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { store, type FlowStore } from './flowStore';
import { api } from './api';
import { sessions, type SessionStore } from './sessionStore';

/** Re-render on every store change; read what you need from the returned store. */
export function useStore(): FlowStore {
  useSyncExternalStore(store.subscribe, store.getVersion);
  return store;
}

/** Re-render only when `pick(store)` changes. */
export function useStoreValue<T>(pick: (s: FlowStore) => T): T {
  return useSyncExternalStore(store.subscribe, () => pick(store));
}

/**
 * Fetch JSON from the API, refetch when `key` changes (throttled to `minGapMs`), keep the last good value.
 * Without a path (nothing to ask yet) it fetches nothing.
 */
export function useApi<T>(path: string | undefined, key: unknown = 0, minGapMs = 1000): {
  data: T | undefined;
  error: string;
  reload: () => void;
} {
  const [data, setData] = useState<T>();
  const [error, setError] = useState('');
  const [tick, setTick] = useState(0);
  const last = useRef(0);
  useEffect(() => {
    let cancelled = false;
    if (path === undefined) return;
    const wait = Math.max(0, last.current + minGapMs - Date.now());
    const t = setTimeout(() => {
      last.current = Date.now();
      api<T>(path)
        .then((d) => {
          if (!cancelled) {
            setData(d);
            setError('');
          }
        })
        .catch((e: Error) => !cancelled && setError(e.message));
    }, wait);
    return () => {
      cancelled = true;
      clearTimeout(t);
    };
  }, [path, key, tick, minGapMs]);
  return { data, error, reload: () => setTick((n) => n + 1) };
}

/** The sessions store; re-renders on its changes, and reloads the list when a flow of an unknown session arrives. */
export function useSessions(): SessionStore {
  useSyncExternalStore(sessions.subscribe, sessions.getVersion);
  const newest = useStoreValue((s) => s.newestSession);
  useEffect(() => {
    if (newest !== undefined && !sessions.byId(newest)) void sessions.load();
  }, [newest]);
  return sessions;
}
