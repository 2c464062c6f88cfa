// A lab's identifiers and rules, kept in the shared store (table `settings`, pg-migrate.ts migration 6) so that an
// edit in any dashboard, an instance's or the dashboard node's, applies to every proxy. It connects the holders to
// the store and leaves them as they are: whoever else listens to them (the detector, rebuilt on change) is told of
// a change from the store as of one made here.
// - At start the store's values win; a store that has none yet of a kind is seeded from this process's (its file),
//   unless those are empty too.
// - An edit here is written to the store; every process LISTENs on `leakscope_settings` and applies what others
//   wrote, within a second (a poll each second while that connection is down).
// - PostgreSQL away: the last known values stay in force (and in the files); an edit made meanwhile is written
//   when it returns. Last writer wins, by the time of the edit: one older than what the store holds by then is
//   dropped, and the store's applied.
import type pg from 'pg';
import { parseIdentifiers, type Identifiers } from '../../shared/identifiers';
import type { ParseResult } from '../../shared/issues';
import { parseRules, type Rules } from '../../shared/rules';
import { UsageError } from '../cli/errors';
import { log } from '../log';
import type { RulesHolder } from '../rules/rules-holder';
import { PgListener } from '../store/pg-listen';
import { safeStoreUrl } from '../store/pg-store';
import type { IdentifiersHolder } from './identifiers-holder';

const CHANNEL = 'leakscope_settings';
const POLL_MS = 1000;

/** The shared store as a process has it open: its pool, its URL (for LISTEN) and whom edits are recorded from. */
interface SharedStore {
  pool: pg.Pool;
  url: string;
  instance: string;
}

interface Holders {
  identifiers: IdentifiersHolder;
  rules: RulesHolder;
}

interface Holder<T> {
  get(): T;
  set(value: T): void;
  onChange(fn: (value: T) => void): void;
}

/** One kind of setting: its holder here, the store's version last applied, and an edit here not yet written. */
interface Setting<T> {
  name: 'identifiers' | 'rules';
  holder: Holder<T>;
  parse: (data: unknown) => ParseResult<T>;
  empty: (value: T) => boolean;
  version: number;
  unsent?: { value: T; edited: number };
}

const INSERT = 'INSERT INTO settings (name, value, version, instance, edited) VALUES ($1, $2, 1, $3, $4)';
const WRITE = `${INSERT}
  ON CONFLICT (name) DO UPDATE SET value = excluded.value, version = settings.version + 1, instance = excluded.instance, edited = excluded.edited
  WHERE settings.edited <= excluded.edited
  RETURNING version`;

export class SharedSettings {
  private readonly settings: Setting<unknown>[];
  private readonly listener: PgListener;
  private poll: NodeJS.Timeout | undefined;
  /** set while a value from the store is handed to a holder, so that its onChange is not written back */
  private applying = false;
  private syncing: Promise<void> | undefined;
  private again = false;
  private reachable = true;

  private readonly pool: pg.Pool;
  private readonly instance: string;

  private constructor(store: SharedStore, holders: Holders) {
    this.pool = store.pool;
    this.instance = store.instance;
    const identifiers: Setting<Identifiers> = {
      name: 'identifiers',
      holder: holders.identifiers,
      parse: parseIdentifiers,
      empty: (ids) => ids.devices.length === 0,
      version: 0,
    };
    const rules: Setting<Rules> = { name: 'rules', holder: holders.rules, parse: parseRules, empty: (r) => r.rules.length === 0, version: 0 };
    this.settings = [identifiers, rules] as Setting<unknown>[];
    for (const setting of this.settings) {
      setting.holder.onChange((value) => {
        if (this.applying) return;
        setting.unsent = { value, edited: Date.now() };
        this.sync();
      });
    }
    this.listener = new PgListener(store.url, [CHANNEL], () => this.sync());
  }

  /**
   * Seeds the store from the holders where it has nothing, applies what it has, then follows it. The database
   * answered a moment ago (its migrations): a failure here is thrown, as an unreachable store at start is.
   */
  static async attach(store: SharedStore, holders: Holders): Promise<SharedSettings> {
    const shared = new SharedSettings(store, holders);
    try {
      for (const s of shared.settings) {
        const value = s.holder.get();
        // Edited at 0: any edit made anywhere is newer than a seed.
        if (!s.empty(value)) await store.pool.query(`${INSERT} ON CONFLICT (name) DO NOTHING`, [s.name, JSON.stringify(value), store.instance, 0]);
      }
      await shared.pull();
    } catch (err) {
      throw new UsageError(`--store ${safeStoreUrl(store.url)}: cannot use the database (${(err as Error).message})`);
    }
    shared.listener.start();
    shared.poll = setInterval(() => {
      if (!shared.listener.listening || shared.settings.some((s) => s.unsent)) shared.sync();
    }, POLL_MS);
    shared.poll.unref();
    return shared;
  }

  /** Writes what was edited here, then applies what the store holds; now, or right after the sync under way. */
  private sync(): void {
    if (this.syncing) return void (this.again = true);
    this.syncing = (async () => {
      do {
        this.again = false;
        try {
          for (const s of this.settings) await this.push(s);
          await this.pull();
          if (!this.reachable) log.info('the shared store is reachable again: identifiers and rules follow it');
          this.reachable = true;
        } catch (err) {
          if (this.reachable) log.warn({ err: (err as Error).message }, 'the shared store is unreachable: identifiers and rules stay as they are, and an edit made here is written when it returns');
          this.reachable = false;
          return;
        }
      } while (this.again);
    })().finally(() => (this.syncing = undefined));
  }

  private async push(s: Setting<unknown>): Promise<void> {
    const unsent = s.unsent;
    if (!unsent) return;
    const { rows } = await this.pool.query<{ version: string }>(WRITE, [s.name, JSON.stringify(unsent.value), this.instance, unsent.edited]);
    // No row: the store holds a later edit, which pull() applies.
    if (rows.length) s.version = Number(rows[0].version);
    if (s.unsent === unsent) s.unsent = undefined;
  }

  private async pull(): Promise<void> {
    const { rows } = await this.pool.query<{ name: string; value: unknown; version: string; instance: string }>('SELECT name, value, version, instance FROM settings');
    for (const row of rows) {
      const s = this.settings.find((x) => x.name === row.name);
      const version = Number(row.version);
      // An edit here not yet written is newer than what this process last saw of the store: push() settles it.
      if (!s || version <= s.version || s.unsent) continue;
      s.version = version;
      const parsed = s.parse(row.value);
      if (!parsed.ok) {
        log.warn({ setting: s.name, from: row.instance, err: parsed.error }, 'the shared store holds settings this version cannot use; the last known stay in force');
        continue;
      }
      if (JSON.stringify(parsed.value) === JSON.stringify(s.holder.get())) continue;
      this.applying = true;
      try {
        s.holder.set(parsed.value);
      } finally {
        this.applying = false;
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.poll);
    await this.listener.close();
    await this.syncing;
    // one last try for an edit made while the store was away (it is in this process's file either way)
    if (this.settings.some((s) => s.unsent)) {
      this.sync();
      await this.syncing;
    }
  }
}
