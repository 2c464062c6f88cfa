// The command line as a tester runs it: real processes, exit codes and messages from CONTRACT.md.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import harValidator from 'har-validator';
import { curl, startTestLeakscope, tempDir, type TestLeakscope } from '../helpers/leakscope';
import { startUpstream, type Upstream } from '../helpers/upstream';

const BIN = path.resolve(__dirname, '../../bin/leakscope.js');

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, LEAKSCOPE_LOG: 'silent', ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('leakscope start', () => {
  it('exits 2 naming the file and the field when the identifiers file is bad', async () => {
    const file = path.join(tempDir(), 'bad.json');
    fs.writeFileSync(file, JSON.stringify({ devices: [{ name: 'x', imei: [865123456789012] }] }));
    const r = await run(['start', '--identifiers', file, '--data-dir', tempDir(), '--proxy-port', '0', '--ui-port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(file);
    expect(r.stderr).toContain(`identifiers file ${file}: Phone "x": IMEI 1 must be text in quotes, not the number 865123456789012 (at devices[0].imei[0])`);
  });

  it('exits 2 when the identifiers file is not JSON', async () => {
    const file = path.join(tempDir(), 'broken.json');
    fs.writeFileSync(file, '{ "devices": [ ');
    const r = await run(['start', '--identifiers', file, '--data-dir', tempDir(), '--proxy-port', '0', '--ui-port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not valid JSON/);
  });

  it.each([
    ['--proxy-port', ['--ui-port', '0']],
    ['--ui-port', ['--proxy-port', '0']],
  ])('exits 2 with one line naming %s when its port is in use', async (option, others) => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = String((taken.address() as net.AddressInfo).port);
    try {
      const r = await run(['start', '--data-dir', tempDir(), '--proxy-host', '127.0.0.1', option, port, ...others]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`leakscope: ${option} ${port}: 127.0.0.1:${port} is already in use (another leakscope or proxy?); choose another port with ${option}\n`);
    } finally {
      taken.close();
    }
  });

  it.each([
    [['--proxy-host', '192.0.2.254'], /^leakscope: --proxy-host 192\.0\.2\.254: not an address of this machine\n$/],
    [['--ui-host', 'no-such-name.invalid', '--proxy-host', '127.0.0.1'], /^leakscope: --ui-host no-such-name\.invalid: not an address or a name of this machine\n$/],
  ])('exits 2 with one line for a listen address that is not ours: %s', async (args, message) => {
    const r = await run(['start', '--data-dir', tempDir(), '--proxy-port', '0', '--ui-port', '0', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('exits 2 on an unknown option', async () => {
    const r = await run(['start', '--no-such-flag']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option/);
  });
});

describe('leakscope export', () => {
  let upstream: Upstream;
  let app: TestLeakscope;

  beforeAll(async () => {
    upstream = await startUpstream();
    const ids = path.join(tempDir(), 'ids.json');
    fs.writeFileSync(ids, JSON.stringify({ devices: [{ name: 'RedMi 1S', imsi: ['460001234567890'] }] }));
    app = await startTestLeakscope({ upstreamCaPem: upstream.caPem, identifiersFile: ids });
    const proxy = ['-x', `http://127.0.0.1:${app.proxyPort}`, '--cacert', app.caFile];
    await curl([...proxy, `${upstream.url}/register?imsi=460001234567890`]);
    await curl([...proxy, `${upstream.url}/clean`]);
    await app.close();
  });

  afterAll(async () => {
    await upstream?.close();
  });

  it('writes the flagged flows as valid HAR with _leakscope', async () => {
    const out = path.join(tempDir(), 'evidence.har');
    const r = await run(['export', '--flagged', '--out', out], { LEAKSCOPE_DATA_DIR: app.dataDir });
    expect(r.code).toBe(0);
    const har = JSON.parse(fs.readFileSync(out, 'utf8'));
    await expect(harValidator.har(har)).resolves.toBeTruthy();
    expect(har.log.entries).toHaveLength(1);
    expect(har.log.entries[0]._leakscope.findings[0]).toMatchObject({ type: 'imsi', value: '460001234567890', where: 'url', path: 'imsi' });
  });

  it('writes every flow without --flagged, to stdout', async () => {
    const r = await run(['export', '--data-dir', app.dataDir]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).log.entries).toHaveLength(2);
  });

  it('exits 2 for a data dir without captures', async () => {
    const r = await run(['export', '--data-dir', tempDir()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no captured flows/);
  });
});
