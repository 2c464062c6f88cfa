import os from 'node:os';
import path from 'node:path';

/** `--data-dir`, else LEAKSCOPE_DATA_DIR, else ~/.leakscope (CONTRACT.md). */
export function resolveDataDir(flag: string | undefined): string {
  return path.resolve(flag ?? process.env.LEAKSCOPE_DATA_DIR ?? path.join(os.homedir(), '.leakscope'));
}
