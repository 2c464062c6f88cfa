// Reads and validates an identifiers file; every problem becomes a UsageError naming the file and field.
import fs from 'node:fs';
import { parseIdentifiers, type Identifiers } from '../../shared/identifiers';
import { UsageError } from '../cli/errors';

export function loadIdentifiersFile(file: string): Identifiers {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`identifiers file ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`identifiers file ${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = parseIdentifiers(json);
  if (!parsed.ok) throw new UsageError(`identifiers file ${file}: ${parsed.error}`);
  return parsed.value;
}
