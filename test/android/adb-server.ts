// A real adb server (Debian's adb) on a free loopback port for one test file, killed after it: never left running.
import { execFileSync } from 'node:child_process';
import net from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export function startAdbServer(port: number): void {
  execFileSync('adb', ['-P', String(port), 'start-server'], { stdio: 'ignore', timeout: 30_000 });
}

export function killAdbServer(port: number): void {
  execFileSync('adb', ['-P', String(port), 'kill-server'], { stdio: 'ignore', timeout: 30_000 });
}
