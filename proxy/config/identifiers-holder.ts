// The identifiers in force: loaded from the file at start, replaced from the dashboard (validated, saved back
// atomically), and announced to whoever depends on them (the detector is rebuilt on change; a lab's shared store
// is written, config/shared-settings.ts). A dashboard node's have no file: they are the shared store's, in memory.
import fs from 'node:fs';
import path from 'node:path';
import { EMPTY_IDENTIFIERS, type Identifiers } from '../../shared/identifiers';
import { loadIdentifiersFile } from './load-identifiers';

export class IdentifiersHolder {
  private current: Identifiers;
  private readonly listeners: ((ids: Identifiers) => void)[] = [];

  /** @param file the identifiers file; it is read when it exists and created on the first save. */
  constructor(readonly file?: string) {
    this.current = file !== undefined && fs.existsSync(file) ? loadIdentifiersFile(file) : EMPTY_IDENTIFIERS;
  }

  get(): Identifiers {
    return this.current;
  }

  /** Where the file as it was before the last save is kept: the tester's own file may hold comments or order. */
  get backupFile(): string {
    return `${this.file}.bak`;
  }

  /** Replaces the identifiers (already validated) and saves them to the file, the previous version to `.bak`. */
  set(ids: Identifiers): void {
    this.save(ids);
    this.current = ids;
    for (const fn of this.listeners) fn(ids);
  }

  private save(ids: Identifiers): void {
    const file = this.file;
    if (file === undefined) return;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(ids, null, 2) + '\n');
    if (fs.existsSync(file)) fs.copyFileSync(file, this.backupFile);
    fs.renameSync(tmp, file);
  }

  onChange(fn: (ids: Identifiers) => void): void {
    this.listeners.push(fn);
  }

  /** The device named in the identifiers file for this client address, if any. */
  deviceFor(client: string): string | undefined {
    return this.current.devices.find((d) => d.client === client)?.name || undefined;
  }
}
