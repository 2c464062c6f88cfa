// `leakscope android` against a real adb server from Debian's adb package, with no device attached, and
// against no adb server at all: exit 2 and one line saying what to do. (No device or emulator can run here.)
import { execFile } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/leakscope';
import { freePort, killAdbServer, startAdbServer } from './adb-server';

const BIN = path.resolve(__dirname, '../../bin/leakscope.js');

function leakscope(args: string[], adbPort: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, LEAKSCOPE_LOG: 'silent', ANDROID_ADB_SERVER_PORT: String(adbPort), LEAKSCOPE_DATA_DIR: tempDir() };
    execFile(process.execPath, [BIN, 'android', ...args], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('leakscope android without a device', () => {
  let adbPort: number;

  beforeAll(async () => {
    adbPort = await freePort();
    startAdbServer(adbPort);
  });

  afterAll(() => {
    killAdbServer(adbPort);
  });

  it('a real adb server with nothing attached: exit 2, one line saying to connect a device', async () => {
    const r = await leakscope(['--proxy-port', '18080'], adbPort);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^leakscope: no Android device attached: connect one with USB debugging on/);
  });

  it('--serial naming a device that is not there: exit 2 naming it', async () => {
    const r = await leakscope(['--serial', 'emulator-5554;reboot', '--undo'], adbPort);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no device emulator-5554;reboot attached');
  });
});

describe('leakscope android without an adb server', () => {
  it('exit 2, one line saying how to start one, and no server started behind the tester', async () => {
    const port = await freePort();
    const r = await leakscope([], port);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`no adb server on 127.0.0.1:${port}: start it with \`adb start-server\``);
    // adbkit would have started one on that port; leakscope must not.
    const answered = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => (socket.destroy(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    expect(answered).toBe(false);
  });
});
