// Reads the identifiers file (CONTRACT.md): every problem becomes a UsageError naming the file, field and fault.
import { parseIdentifiers, type Identifiers } from '../../shared/identifiers';
import { readJsonFile } from './json-file';

export function loadIdentifiersFile(path: string): Identifiers {
  return readJsonFile(path, 'identifiers file', parseIdentifiers);
}
