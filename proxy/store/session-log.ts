// Capture sessions and their markers, in the flows database. One session at a time is current: flows and markers
// go to it. When none is open (never started, or ended from the dashboard), the next flow or marker starts one
// named by its time, so every flow belongs to a session.
import type Database from 'better-sqlite3';
import type { Marker, SessionInfo } from '../../shared/audit';

export class SessionError extends Error {
  override name = 'SessionError';
  constructor(
    message: string,
    readonly kind: 'missing' | 'exists' | 'invalid',
  ) {
    super(message);
  }
}

/** The error for a session `ref` that names none of `names`. */
export function unknownSession(ref: string, names: string[]): SessionError {
  return new SessionError(`session "${ref}": no such session (${names.length ? `sessions: ${names.join(', ')}` : 'none recorded yet'})`, 'missing');
}

/** A session as the CLI and API name it. */
export interface SessionRef {
  id: number;
  name: string;
}

interface SessionRow {
  id: number;
  name: string;
  started: number;
  ended: number | null;
}

const MAX_NAME = 100;
const MAX_MARKER = 500;

/** A session's default name: its start time, UTC, to the second (`2026-12-02T07:30:15Z`). */
export function sessionName(time: number): string {
  return new Date(time).toISOString().slice(0, 19) + 'Z';
}

/** A name or marker text as the tester typed it, trimmed; control characters and over-long text refused. */
function cleanText(text: unknown, what: string, max: number): string {
  if (typeof text !== 'string' || text.trim() === '') throw new SessionError(`${what}: a non-empty string`, 'invalid');
  const t = text.trim();
  if (t.length > max) throw new SessionError(`${what}: at most ${max} characters`, 'invalid');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(t)) throw new SessionError(`${what}: no control characters (line breaks, tabs)`, 'invalid');
  return t;
}

/** A session name as the tester gave it, trimmed; throws SessionError when it cannot be one. */
export function checkSessionName(name: string): string {
  return cleanText(name, 'session name', MAX_NAME);
}

export class SessionLog {
  private current: number | undefined;
  private readonly markerListeners: ((marker: Marker) => void)[] = [];

  constructor(private readonly db: Database.Database) {
    const open = db.prepare('SELECT id FROM sessions WHERE ended IS NULL ORDER BY id DESC LIMIT 1').get() as { id: number } | undefined;
    this.current = open?.id;
  }

  private row(id: number): SessionRow | undefined {
    return this.db.prepare('SELECT id, name, started, ended FROM sessions WHERE id = ?').get(id) as SessionRow | undefined;
  }

  private byName(name: string): SessionRow | undefined {
    return this.db.prepare('SELECT id, name, started, ended FROM sessions WHERE name = ?').get(name) as SessionRow | undefined;
  }

  /** A session's name by id (one indexed read: asked for every flow a lab's shared store gets). */
  nameOf(id: number): string | undefined {
    return this.row(id)?.name;
  }

  has(name: string): boolean {
    return this.byName(name.trim()) !== undefined;
  }

  /** A session by name, else by id (`12`); undefined when neither matches. */
  resolve(ref: string): SessionRef | undefined {
    const row = this.byName(ref) ?? (/^\d+$/.test(ref) ? this.row(Number(ref)) : undefined);
    return row ? { id: row.id, name: row.name } : undefined;
  }

  /** Like `resolve`, but an unknown session is an error that names the ones there are. */
  require(ref: string): SessionRef {
    const found = this.resolve(ref);
    if (found) return found;
    throw unknownSession(ref, this.list().map((s) => s.name));
  }

  /**
   * Makes a session current, ending the one that was. A `name` already used continues that session (a proxy
   * restarted mid-test); without one, a new session is named by `now`. Sessions left open by a crash end at their
   * last flow.
   */
  begin(name: string | undefined, now = Date.now()): SessionInfo {
    const chosen = name === undefined ? undefined : checkSessionName(name);
    return this.db.transaction(() => {
      if (this.current !== undefined) this.end(this.current, now);
      this.db
        .prepare('UPDATE sessions SET ended = coalesce((SELECT MAX(start) FROM flows WHERE session_id = sessions.id), started) WHERE ended IS NULL')
        .run();
      const existing = chosen === undefined ? undefined : this.byName(chosen);
      let id: number;
      if (existing) {
        this.db.prepare('UPDATE sessions SET ended = NULL WHERE id = ?').run(existing.id);
        id = existing.id;
      } else {
        id = Number(this.db.prepare('INSERT INTO sessions (name, started) VALUES (?, ?)').run(chosen ?? this.freeName(now), now).lastInsertRowid);
      }
      this.current = id;
      return this.info(id);
    })();
  }

  /** `sessionName(now)`, with a suffix when a session of that second exists already. */
  private freeName(now: number): string {
    const base = sessionName(now);
    let name = base;
    for (let i = 2; this.byName(name); i++) name = `${base}-${i}`;
    return name;
  }

  /** Ends a session (once); if it was current, the next flow or marker starts a new one. */
  end(id: number, now = Date.now()): SessionInfo {
    const row = this.row(id);
    if (!row) throw new SessionError(`session ${id}: no such session`, 'missing');
    if (row.ended === null) this.db.prepare('UPDATE sessions SET ended = ? WHERE id = ?').run(Math.max(now, row.started), id);
    if (this.current === id) this.current = undefined;
    return this.info(id);
  }

  /** At a clean stop: the running session ends now. */
  endCurrent(now = Date.now()): void {
    if (this.current !== undefined) this.end(this.current, now);
  }

  rename(id: number, name: unknown): SessionInfo {
    const clean = cleanText(name, 'name', MAX_NAME);
    if (!this.row(id)) throw new SessionError(`session ${id}: no such session`, 'missing');
    const other = this.byName(clean);
    if (other && other.id !== id) throw new SessionError(`name "${clean}": another session has it`, 'exists');
    this.db.prepare('UPDATE sessions SET name = ? WHERE id = ?').run(clean, id);
    return this.info(id);
  }

  /** The session a flow or marker stored at `now` belongs to, started if none is open. */
  currentId(now = Date.now()): number {
    return this.current ?? this.begin(undefined, now).id;
  }

  addMarker(text: unknown, now = Date.now()): Marker {
    const clean = cleanText(text, 'text', MAX_MARKER);
    const session = this.currentId(now);
    const id = Number(this.db.prepare('INSERT INTO markers (session_id, time, text) VALUES (?, ?, ?)').run(session, now, clean).lastInsertRowid);
    const marker = { id, session, time: now, text: clean };
    for (const listener of this.markerListeners) listener(marker);
    return marker;
  }

  /** Called with each marker once it is stored (a lab's shared store copies it). */
  onMarker(listener: (marker: Marker) => void): void {
    this.markerListeners.push(listener);
  }

  private markersOf(ids: number[] | undefined): Map<number, Marker[]> {
    const rows = this.db
      .prepare(`SELECT id, session_id AS session, time, text FROM markers ${ids ? `WHERE session_id IN (${ids.map(() => '?').join(',')})` : ''} ORDER BY time, id`)
      .all(...(ids ?? [])) as Marker[];
    const by = new Map<number, Marker[]>();
    for (const m of rows) by.set(m.session, [...(by.get(m.session) ?? []), m]);
    return by;
  }

  private query(where: string, params: unknown[]): SessionInfo[] {
    const rows = this.db
      .prepare(
        `SELECT s.id, s.name, s.started, s.ended, COUNT(f.id) AS flows, coalesce(SUM(f.flagged), 0) AS flagged,
                MIN(f.start) AS firstFlow, MAX(f.start) AS lastFlow
         FROM sessions s LEFT JOIN flows f ON f.session_id = s.id ${where} GROUP BY s.id ORDER BY s.id`,
      )
      .all(...params) as (SessionRow & { flows: number; flagged: number; firstFlow: number | null; lastFlow: number | null })[];
    const markers = this.markersOf(where ? rows.map((r) => r.id) : undefined);
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      started: r.started,
      ...(r.ended !== null ? { ended: r.ended } : {}),
      current: r.id === this.current,
      flows: r.flows,
      flagged: r.flagged,
      ...(r.firstFlow !== null ? { firstFlow: r.firstFlow } : {}),
      ...(r.lastFlow !== null ? { lastFlow: r.lastFlow } : {}),
      markers: markers.get(r.id) ?? [],
    }));
  }

  /** Every session, oldest first, with its flow counts and markers. */
  list(): SessionInfo[] {
    return this.query('', []);
  }

  info(id: number): SessionInfo {
    const [info] = this.query('WHERE s.id = ?', [id]);
    if (!info) throw new SessionError(`session ${id}: no such session`, 'missing');
    return info;
  }
}
