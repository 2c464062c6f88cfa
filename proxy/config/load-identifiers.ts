// Reads the identifiers file (CONTRACT.md): every problem becomes a UsageError naming the file, field and fault.
import { readFileSync } from 'node:fs';
import { parseIdentifiers, type Identifiers } from '../../shared/identifiers';
import { UsageError } from '../cli/errors';

export function loadIdentifiersFile(path: string): Identifiers {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`identifiers file ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`identifiers file ${path}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = parseIdentifiers(data);
  if (!parsed.ok) throw new UsageError(`identifiers file ${path}: ${parsed.error}`);
  return parsed.value;
}
