// Starts a real leakscope on free loopback ports with a temporary data dir.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { afterAll, beforeAll } from 'vitest';
import { startLeakscope, type Leakscope, type StartOptions } from '../../proxy/app';
import { sharedStoreFor, whenStopped } from './shared-store';
import { startUpstream, type Upstream } from './upstream';

export function tempDir(prefix = 'leakscope-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface TestLeakscope extends Leakscope {
  dataDir: string;
  caFile: string;
}

export async function startTestLeakscope(opts: Partial<StartOptions> & { upstreamCaPem?: string } = {}): Promise<TestLeakscope> {
  const dataDir = opts.dataDir ?? tempDir();
  // The suite's postgres pass: a lab's shared store too, unless the test chose one (./shared-store.ts).
  const store = opts.store ?? (await sharedStoreFor(dataDir));
  const app = await startLeakscope({
    proxyHost: '127.0.0.1',
    proxyPort: 0,
    uiHost: '127.0.0.1',
    uiPort: 0,
    upstreamCa: opts.upstreamCaPem ? [opts.upstreamCaPem] : undefined,
    ...opts,
    store,
    dataDir,
  });
  // closing twice is closing once: the check closes what a test left open
  if (store !== opts.store) whenStopped(dataDir, () => app.close());
  const caFile = path.join(dataDir, 'ca', 'certs', 'ca.pem');
  return Object.assign(app, { dataDir, caFile });
}

export interface CurlResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs curl with an argument list (never a shell). */
export function curl(args: string[], timeoutMs = 20_000): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile('curl', ['--silent', '--show-error', ...args], { encoding: 'buffer', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as NodeJS.ErrnoException & { code?: number }).code as unknown as number) ?? 1 : 0, stdout, stderr: stderr.toString() });
    });
  });
}

/** Polls `fn` until it returns a truthy value or the time runs out. */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 5000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * For the enclosing describe block: a local HTTPS upstream and a leakscope in front of it that trusts its CA,
 * started before the tests and closed after them. Read `env.app` and `env.upstream` inside tests.
 */
export function proxyInFrontOfUpstream(opts: Partial<StartOptions> = {}): { app: TestLeakscope; upstream: Upstream } {
  const env = {} as { app: TestLeakscope; upstream: Upstream };
  beforeAll(async () => {
    env.upstream = await startUpstream();
    env.app = await startTestLeakscope({ upstreamCaPem: env.upstream.caPem, ...opts });
  });
  afterAll(async () => {
    await env.app?.close();
    await env.upstream?.close();
  });
  return env;
}

/** A request as the dashboard's own page makes it: with its Origin, which changes and downloads require. */
export function asDashboard(app: { uiUrl: string }, init: RequestInit = {}): RequestInit {
  return { ...init, headers: { origin: new URL(app.uiUrl).origin, ...(init.headers as Record<string, string> | undefined) } };
}
