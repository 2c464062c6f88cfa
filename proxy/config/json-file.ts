// Settings files the tester edits by hand and the dashboard rewrites: read with every fault named for exit 2,
// written atomically so a crash mid-save never leaves half a file.
import fs from 'node:fs';
import path from 'node:path';
import type { ParseResult } from '../../shared/issues';
import { UsageError } from '../cli/errors';

/** @param label what the file is, for messages: `rules file` */
export function readJsonFile<T>(file: string, label: string, parse: (data: unknown) => ParseResult<T>): T {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${label} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${label} ${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = parse(data);
  if (!parsed.ok) throw new UsageError(`${label} ${file}: ${parsed.error}`);
  return parsed.value;
}

export function writeJsonFileAtomic(file: string, data: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n');
  fs.renameSync(tmp, file);
}
