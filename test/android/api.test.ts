// GET/POST /api/android/* on a real leakscope, against a real adb server from Debian's adb package with no device
// attached, and against none. (No device or emulator runs here; setup itself is covered by setup.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AndroidDevicesResponse } from '../../shared/android';
import { startTestLeakscope, type TestLeakscope } from '../helpers/leakscope';
import { freePort, killAdbServer, startAdbServer } from './adb-server';

describe('/api/android', () => {
  let app: TestLeakscope;
  let adbPort: number;
  let base: string;
  const previous = process.env.ANDROID_ADB_SERVER_PORT;

  beforeAll(async () => {
    adbPort = await freePort();
    process.env.ANDROID_ADB_SERVER_PORT = String(adbPort);
    app = await startTestLeakscope();
    base = app.uiUrl.replace(/\/$/, '');
  });

  afterAll(async () => {
    await app?.close();
    if (previous === undefined) delete process.env.ANDROID_ADB_SERVER_PORT;
    else process.env.ANDROID_ADB_SERVER_PORT = previous;
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json', origin: base }) =>
    fetch(`${base}/api/android/${path}`, { method: 'POST', headers, body: JSON.stringify(body) });

  it('without an adb server, the device list says how to start one', async () => {
    const body = (await (await fetch(`${base}/api/android/devices`)).json()) as AndroidDevicesResponse;
    expect(body.devices).toEqual([]);
    expect(body.error).toMatch(/^no adb server on 127\.0\.0\.1:\d+: start it with `adb start-server`/);
    const r = await post('setup', { serial: 'emulator-5554' });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: string }).error).toMatch(/no adb server/);
  });

  describe('with a real adb server and no device', () => {
    beforeAll(() => {
      startAdbServer(adbPort);
    });
    afterAll(() => {
      killAdbServer(adbPort);
    });

    it('lists no device and no error', async () => {
      expect(await (await fetch(`${base}/api/android/devices`)).json()).toEqual({ devices: [] });
    });

    it('setup and undo of a serial that is not attached: 400 naming it', async () => {
      for (const path of ['setup', 'undo']) {
        const r = await post(path, { serial: 'emulator-5554' });
        expect(r.status, path).toBe(400);
        expect(((await r.json()) as { error: string }).error).toContain('no device emulator-5554 attached');
      }
    });

    it('setup is a mutation: cross-origin 403, not JSON 415, no serial 400', async () => {
      expect((await post('setup', { serial: 'x' }, { 'content-type': 'application/json', origin: 'http://evil.example' })).status).toBe(403);
      expect((await post('setup', { serial: 'x' }, { 'content-type': 'text/plain', origin: base })).status).toBe(415);
      expect((await post('setup', {})).status).toBe(400);
    });
  });
});
