// `npm start` builds the dashboard when its bundle is missing or older than its sources.
import fs from 'node:fs';
import path from 'node:path';
import { DASHBOARD_DIST } from '../server/ui-server';

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

export function dashboardIsStale(): boolean {
  const index = path.join(DASHBOARD_DIST, 'index.html');
  if (!fs.existsSync(index)) return true;
  const root = path.dirname(DASHBOARD_DIST);
  const sources = Math.max(newestMtime(path.join(root, 'src')), fs.statSync(path.join(root, 'index.html')).mtimeMs);
  const sharedDir = path.resolve(root, '../shared');
  return Math.max(sources, newestMtime(sharedDir)) > fs.statSync(index).mtimeMs;
}

export async function buildDashboardIfStale(say: (line: string) => void): Promise<void> {
  if (!dashboardIsStale()) return;
  say('building the dashboard (first start, or its sources changed)…');
  const { build } = await import('vite');
  await build({ root: path.dirname(DASHBOARD_DIST), logLevel: 'warn' });
}
