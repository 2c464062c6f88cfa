// A mode whose prerequisites are missing, or whose port is taken, exits 2 with one line naming what is wrong.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = path.resolve(__dirname, '../../bin/leakscope.js');
const dirs: string[] = [];

function start(extra: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leakscope-modes-'));
  dirs.push(dir);
  const args = [BIN, 'start', '--data-dir', dir, '--proxy-host', '127.0.0.1', '--proxy-port', '0', '--ui-port', '0', ...extra];
  const child = spawn(process.execPath, args, { env: { ...process.env, LEAKSCOPE_LOG: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    }),
  );
}

afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('start --mode: what is missing', () => {
  it('names a missing wireguard-go and the apt-get command that installs it', async () => {
    // a PATH without /usr/bin hides wireguard-go (node is started by its full path)
    const { code, stderr } = await start(['--mode', 'wireguard'], { PATH: '/nonexistent' });
    expect(code).toBe(2);
    expect(stderr.trim()).toBe('leakscope: --mode wireguard: wireguard-go is missing; install it with: apt-get install wireguard-go');
  });

  it('names the transparent port when it is in use', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const { code, stderr } = await start(['--mode', 'transparent', '--transparent-port', String(port)]);
      expect(code).toBe(2);
      expect(stderr.trim()).toBe(`leakscope: --transparent-port ${port} (on 127.0.0.1): the port is in use`);
    } finally {
      taken.close();
    }
  });

  it('refuses a mode it does not know', async () => {
    const { code, stderr } = await start(['--mode', 'socks5']);
    expect(code).toBe(2);
    expect(stderr).toContain('--mode socks5: expected one of regular, transparent, wireguard');
  });
});
