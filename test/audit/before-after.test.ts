// The audit's two acts through the real CLI and the real proxy: before an update the phone sends its IMEI, IMSI,
// phone number and contacts to a host; after it, only a heartbeat. `diff` lists exactly what was lost and gates on
// what was gained; `report` writes an HTML report that runs no script (even with hostile captured text in it), a
// PDF whose text holds the summary, and evidence.har whose SHA-256 the report states.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import harValidator from 'har-validator';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiffResult, SessionInfo } from '../../shared/audit';
import { launchChromium } from '../helpers/browser';
import { curl, tempDir, waitFor } from '../helpers/leakscope';
import { startUpstream, type Upstream } from '../helpers/upstream';
import { ensureDashboardBuilt, ROOT, SCREENSHOTS, DOCS } from '../browser/helpers';
import { startCli, type CliProcess } from '../lifecycle/cli-process';

const BIN = path.join(ROOT, 'bin/leakscope.js');
const PHONE = { name: 'RedMi 1S', imei: '865123456789012', imsi: '460001234567890', phone: '+86 138 0013 8000', contact: '+1 202 555 0143' };
const HOSTILE_KEY = '<img src=x onerror="window.__pwned=1;alert(1)">';
const HOSTILE_PATH = '/v1/log/<script>window.__pwned=2;alert(2)</script>';

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, LEAKSCOPE_LOG: 'silent' }, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function runFile(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile(file, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => (err ? reject(err) : resolve(stdout))));
}

async function stop(cli: CliProcess): Promise<void> {
  cli.child.kill('SIGINT');
  expect(await cli.exited).toBe(0);
}

const sha256 = (data: Buffer | string) => crypto.createHash('sha256').update(data).digest('hex');

let upstream: Upstream;
let dataDir: string;
let outDir: string;
let exported: string;
let browser: Browser;
type Run = Awaited<ReturnType<typeof run>>;
/** Every CLI run the tests look at, started together once the capture is done (each costs seconds of start-up). */
let runs: Record<string, Run>;

async function runAll(commands: Record<string, string[]>, parallel = 3): Promise<Record<string, Run>> {
  const names = Object.keys(commands);
  const out: Record<string, Run> = {};
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < names.length) {
        const name = names[next++];
        out[name] = await run(commands[name]);
      }
    }),
  );
  return out;
}

beforeAll(async () => {
  await ensureDashboardBuilt();
  upstream = await startUpstream();
  dataDir = tempDir();
  const caFile = path.join(dataDir, 'upstream-ca.pem');
  fs.writeFileSync(caFile, upstream.caPem);
  const ids = path.join(dataDir, 'redmi.json');
  fs.writeFileSync(
    ids,
    JSON.stringify({ devices: [{ name: PHONE.name, client: '127.0.0.1', imei: [PHONE.imei], imsi: [PHONE.imsi], phone_number: [PHONE.phone], contacts: [{ name: 'Alice Canary', phone: [PHONE.contact] }] }] }),
  );
  const common = ['--identifiers', ids, '--upstream-ca', caFile];
  const phone = (cli: CliProcess, p: string, body?: unknown) =>
    curl([
      '-x', `http://127.0.0.1:${cli.proxyPort}`, '--cacert', path.join(dataDir, 'ca/certs/ca.pem'), '--path-as-is', '--fail',
      ...(body === undefined ? [] : ['-H', 'content-type: application/json', '--data-binary', JSON.stringify(body)]),
      `${upstream.url}${p}`,
    ]);

  // Act one: before the update.
  const before = await startCli(dataDir, [...common, '--session', 'before']);
  await waitFor(() => /session\s+before\n/.test(before.output()), 10_000, 'the session line');
  const marker = await fetch(`${before.uiUrl}api/markers`, { method: 'POST', headers: { 'content-type': 'application/json', origin: before.uiUrl.replace(/\/$/, '') }, body: JSON.stringify({ text: 'SIM inserted <b>' }) });
  expect(marker.status).toBe(201);
  for (const r of [
    await phone(before, '/v1/register', { device: { imei: PHONE.imei, imsi: PHONE.imsi } }),
    await phone(before, '/v1/account', { msisdn: PHONE.phone }),
    await phone(before, '/v1/contacts/upload', { contacts: [{ name: 'Alice', tel: PHONE.contact }] }),
    await phone(before, HOSTILE_PATH, { [HOSTILE_KEY]: PHONE.imei }),
    await phone(before, '/v1/heartbeat'),
  ])
    expect(r.code, r.stderr).toBe(0);
  await stop(before);

  // Act two: after it, only the heartbeat.
  const after = await startCli(dataDir, [...common, '--session', 'after']);
  for (let i = 0; i < 2; i++) expect((await phone(after, '/v1/heartbeat')).code).toBe(0);
  await stop(after);

  outDir = path.join(tempDir(), 'report');
  exported = path.join(tempDir(), 'export.har');
  const dd = ['--data-dir', dataDir];
  [runs, browser] = await Promise.all([
    runAll({
      diffJson: ['diff', 'before', 'after', ...dd, '--json'],
      diffText: ['diff', 'before', 'after', ...dd],
      gate: ['diff', 'before', 'after', ...dd, '--fail-on-new'],
      gateBack: ['diff', 'after', 'before', ...dd, '--fail-on-new', '--json'],
      gateDevice: ['diff', 'after', 'before', ...dd, '--fail-on-new', '--device', 'Pixel'],
      diffUnknown: ['diff', 'before', 'nope', ...dd],
      report: ['report', '--session', 'before', '--against', 'after', ...dd, '--out', outDir],
      reportUnknown: ['report', '--session', 'nope', ...dd, '--out', tempDir()],
      reportNoOut: ['report', '--session', 'before', ...dd],
      sessions: ['sessions', ...dd, '--json'],
      export: ['export', '--session', 'before', ...dd, '--out', exported],
    }),
    launchChromium(),
  ]);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await upstream?.close();
});

describe('leakscope diff', () => {
  it('lists exactly the pairs lost after the update, and nothing gained or kept', () => {
    const r = runs.diffJson;
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout) as DiffResult;
    expect(d.a).toBe('before');
    expect(d.b).toBe('after');
    expect(d.gained).toEqual([]);
    expect(d.kept).toEqual([]);
    expect(d.lost.map((i) => `${i.device} ${i.type} ${i.destination} ${i.encoding} ${i.countA} ${i.countB}`).sort()).toEqual([
      'RedMi 1S contact 127.0.0.1 plain 1 0',
      'RedMi 1S imei 127.0.0.1 plain 2 0',
      'RedMi 1S imsi 127.0.0.1 plain 1 0',
      'RedMi 1S phone_number 127.0.0.1 plain 1 0',
    ]);
    for (const i of d.lost) {
      expect(i.firstSeenA).toBeGreaterThan(0);
      expect(i.lastSeenA).toBeGreaterThanOrEqual(i.firstSeenA!);
      expect(i.firstSeenB).toBeNull();
    }
    expect(d.destinations).toEqual({ new: [], gone: [] });
    expect(d.countries).toEqual({ gained: [], lost: [] });
  });

  it('prints the same as a table', () => {
    const r = runs.diffText;
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('before → after: 0 gained, 4 lost, 0 kept');
    expect(r.stdout).toMatch(/lost: sent in before, not in after \(4\)\n.*device\s+type\s+destination/);
    expect(r.stdout).toMatch(/RedMi 1S\s+imsi\s+127\.0\.0\.1\s+plain\s+1\s+0/);
  });

  it('--fail-on-new passes the update, and fails the way back, which gains all four', () => {
    expect(runs.gate.code).toBe(0);
    expect(runs.gateBack.code).toBe(1);
    expect((JSON.parse(runs.gateBack.stdout) as DiffResult).gained.map((i) => i.type).sort()).toEqual(['contact', 'imei', 'imsi', 'phone_number']);
    // A device that sent nothing gains nothing.
    expect(runs.gateDevice.code).toBe(0);
  });

  it('exits 2 naming an unknown session and the sessions there are', () => {
    const r = runs.diffUnknown;
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('leakscope: session "nope": no such session (sessions: before, after)\n');
  });
});

describe('leakscope report', () => {
  let html = '';
  let harBytes: Buffer;

  beforeAll(() => {
    const r = runs.report;
    if (r.code !== 0) throw new Error(`report exited ${r.code}: ${r.stderr}`);
    expect(r.stdout).toContain(`wrote ${path.join(outDir, 'report.pdf')}`);
    html = fs.readFileSync(path.join(outDir, 'report.html'), 'utf8');
    harBytes = fs.readFileSync(path.join(outDir, 'evidence.har'));
  }, 60_000);

  it('evidence.har holds the session’s flows as valid HAR 1.2, the same bytes `export --session` writes', async () => {
    const har = JSON.parse(harBytes.toString());
    await expect(harValidator.har(har)).resolves.toBeTruthy();
    const sessions = JSON.parse(runs.sessions.stdout) as SessionInfo[];
    expect(sessions.map((s) => [s.name, s.flows, s.flagged])).toEqual([
      ['before', 5, 4],
      ['after', 2, 0],
    ]);
    expect(sessions[0].markers.map((m) => m.text)).toEqual(['SIM inserted <b>']);
    expect(har.log.entries).toHaveLength(5);
    expect(runs.export.code).toBe(0);
    expect(sha256(fs.readFileSync(exported))).toBe(sha256(harBytes));
  });

  it('states the SHA-256 of evidence.har and of each flagged request body', async () => {
    const page = await browser.newPage({ javaScriptEnabled: false });
    await page.goto(pathToFileURL(path.join(outDir, 'report.html')).href);
    expect(await page.textContent('[data-testid=har-sha256]')).toBe(sha256(harBytes));
    const har = JSON.parse(harBytes.toString());
    const flagged = har.log.entries.filter((e: { _leakscope: { findings: unknown[] } }) => e._leakscope.findings.length > 0);
    const rows = await page.$$eval('[data-testid=body-hashes] tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows.map((r) => [Number(r[0]), r[2]])).toEqual(flagged.map((e: { _leakscope: { id: number }; request: { postData: { text: string } } }) => [e._leakscope.id, sha256(e.request.postData.text)]));
    await page.close();
  });

  it('holds the expected rows, in the issue’s order, with identifiers masked', async () => {
    const page = await browser.newPage();
    await page.goto(pathToFileURL(path.join(outDir, 'report.html')).href);
    expect(await page.$$eval('section', (s) => s.map((x) => x.id))).toEqual(['summary', 'method', 'matrix', 'flows', 'timeline', 'diff', 'integrity']);
    const summary = await page.$$eval('[data-testid=summary] tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 6).map((td) => td.textContent)));
    expect(summary).toEqual([
      ['IMEI', 'RedMi 1S', '127.0.0.1', '–', '–', 'plain'],
      ['IMSI', 'RedMi 1S', '127.0.0.1', '–', '–', 'plain'],
      ['phone number', 'RedMi 1S', '127.0.0.1', '–', '–', 'plain'],
      ['contacts', 'RedMi 1S', '127.0.0.1', '–', '–', 'plain'],
    ]);
    const identifiers = await page.$$eval('[data-testid=identifiers] tbody tr', (trs) => trs.map((tr) => tr.querySelectorAll('td')[2].textContent));
    expect(identifiers.sort()).toEqual(['+• ••• ••• 0143', '+•• ••• •••• 8000', '•••••••••••7890', '•••••••••••9012']);
    expect(html).not.toContain(PHONE.imei);
    expect(html).not.toContain(PHONE.imsi);
    expect(await page.textContent('[data-testid=ca-fingerprint]')).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(await page.$$eval('[data-flow-id]', (a) => a.length)).toBe(4);
    expect(await page.textContent('[data-testid=timeline]')).toContain('Marker: SIM inserted <b>');
    // The report is on `before`, against `after`: what `before` sent and `after` no longer does is gained here.
    expect(await page.$$eval('[data-testid=diff-gained] tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-type')).sort())).toEqual(['contact', 'imei', 'imsi', 'phone_number']);
    expect(await page.textContent('[data-testid=diff-lost]')).toBe('None.');
    await page.close();
  });

  it('runs no script, even with hostile captured text, and shows that text as text', async () => {
    // The escaping alone, without the page's Content-Security-Policy to fall back on.
    const withoutCsp = html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '');
    expect(withoutCsp).not.toBe(html);
    for (const load of [
      (p: import('playwright-core').Page) => p.goto(pathToFileURL(path.join(outDir, 'report.html')).href),
      (p: import('playwright-core').Page) => p.setContent(withoutCsp),
    ]) {
      const page = await browser.newPage({ javaScriptEnabled: true });
      const events: string[] = [];
      page.on('dialog', (d) => {
        events.push(`dialog ${d.message()}`);
        void d.dismiss();
      });
      page.on('console', (m) => events.push(`console ${m.text()}`));
      page.on('pageerror', (e) => events.push(`error ${e.message}`));
      await load(page);
      await page.waitForTimeout(200);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(await page.evaluate(() => document.querySelectorAll('script, img, iframe, object, embed, [onerror], tr.marker b').length)).toBe(0);
      expect(events).toEqual([]);
      const text = await page.textContent('body');
      expect(text).toContain(HOSTILE_PATH);
      // The key as its JSON path: $["<img src=x onerror=\"…\">"]
      expect(text).toContain(`$[${JSON.stringify(HOSTILE_KEY)}]`);
      await page.close();
    }
  });

  it('report.pdf is printed, and its text holds the summary', async () => {
    const text = await runFile('pdftotext', ['-layout', path.join(outDir, 'report.pdf'), '-']);
    expect(text).toContain('Privacy leak report: before');
    expect(text).toContain('1. Summary');
    expect(text.replace(/\s+/g, ' ')).toContain('4 of 5 captured requests carried identifiers of the phone: IMEI, IMSI, phone number, contacts, to 1 destination.');
    expect(text).toMatch(/IMEI\s+RedMi 1S\s+127\.0\.0\.1/);
    expect(text).toContain('•••••••••••9012');
    expect(text).toContain('7. Integrity');
    if (SCREENSHOTS) await runFile('pdftoppm', ['-png', '-f', '1', '-l', '1', '-r', '70', '-singlefile', path.join(outDir, 'report.pdf'), path.join(DOCS, 'report')]);
  });

  it('exits 2 for an unknown session, and for a missing --out', () => {
    expect(runs.reportUnknown.code).toBe(2);
    expect(runs.reportUnknown.stderr).toContain('session "nope": no such session');
    expect(runs.reportNoOut.code).toBe(2);
    expect(runs.reportNoOut.stderr).toContain("required option '--out <dir>' not specified");
  });
});
