// Capture sessions and markers: the list, the session picked in the header (which narrows every view), and the
// actions that start, end and rename sessions and add markers. Views read it through useSessions.
import type { Marker, SessionInfo } from '../../../shared/audit';
import { api } from './api';
import { store as flows } from './flowStore';
import { Observable } from './observable';

export class SessionStore extends Observable {
  sessions: SessionInfo[] = [];
  /** the session every view is narrowed to; undefined: all sessions */
  selected: number | undefined;
  error = '';
  private loading: Promise<void> | undefined;

  load(): Promise<void> {
    this.loading ??= api<SessionInfo[]>('/api/sessions')
      .then((list) => {
        this.sessions = list;
        this.error = '';
      })
      .catch((err: Error) => {
        this.error = err.message;
      })
      .finally(() => {
        this.loading = undefined;
        this.emit();
      });
    return this.loading;
  }

  byId(id: number | undefined): SessionInfo | undefined {
    return this.sessions.find((s) => s.id === id);
  }

  get current(): SessionInfo | undefined {
    return this.sessions.find((s) => s.current);
  }

  select(id: number | undefined): void {
    this.selected = id;
    flows.setSession(id);
    this.emit();
  }

  /** Runs a change, then reloads the list; the error, if any, is kept for the view to show. */
  private async change<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      const out = await fn();
      this.error = '';
      return out;
    } catch (err) {
      this.error = (err as Error).message;
      return undefined;
    } finally {
      await this.load();
    }
  }

  start(name: string): Promise<SessionInfo | undefined> {
    return this.change(() => api<SessionInfo>('/api/sessions', { method: 'POST', body: JSON.stringify(name.trim() ? { name: name.trim() } : {}) }));
  }

  end(id: number): Promise<SessionInfo | undefined> {
    return this.change(() => api<SessionInfo>(`/api/sessions/${id}/end`, { method: 'POST', body: '{}' }));
  }

  rename(id: number, name: string): Promise<SessionInfo | undefined> {
    return this.change(() => api<SessionInfo>(`/api/sessions/${id}`, { method: 'PUT', body: JSON.stringify({ name }) }));
  }

  addMarker(text: string): Promise<Marker | undefined> {
    return this.change(() => api<Marker>('/api/markers', { method: 'POST', body: JSON.stringify({ text }) }));
  }
}

export const sessions = new SessionStore();

/** `?session=ID` for the API routes that narrow to the picked session ('' for all), and `instance=NAME` when one
 * instance is picked (the devices and the matrix on a lab's dashboard node). */
export function sessionQuery(selected: number | undefined, prefix = '?', instance = ''): string {
  const params = new URLSearchParams();
  if (selected !== undefined) params.set('session', String(selected));
  if (instance) params.set('instance', instance);
  const query = params.toString();
  return query ? `${prefix}${query}` : '';
}
