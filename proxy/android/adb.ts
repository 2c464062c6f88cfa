// The adb server, through @devicefarmer/adbkit (the client HTTP Toolkit uses): the devices it sees, and each one
// as an AndroidDevice. Serials and everything a device says are data: they travel in the adb protocol, never
// through a local shell.
import { createRequire } from 'node:module';
import net from 'node:net';
import { Readable } from 'node:stream';
import type { Client, Device, DeviceClient } from '@devicefarmer/adbkit';
import { UsageError } from '../cli/errors';
import type { AndroidDevice } from './device';

// adbkit is CommonJS whose named exports Node's ESM loader cannot see; require gives the real module.
const { Adb } = createRequire(import.meta.url)('@devicefarmer/adbkit') as typeof import('@devicefarmer/adbkit');

export const DEFAULT_ADB_PORT = 5037;
const SHELL_TIMEOUT_MS = 30_000;
const ROOT_RESTART_TIMEOUT_MS = 20_000;

export interface AdbEndpoint {
  host: string;
  port: number;
}

/** Where adb itself looks: ANDROID_ADB_SERVER_PORT, else 5037, on loopback. */
export function adbEndpoint(env: NodeJS.ProcessEnv = process.env): AdbEndpoint {
  const raw = env.ANDROID_ADB_SERVER_PORT;
  const port = raw && /^\d+$/.test(raw) && Number(raw) > 0 && Number(raw) < 65536 ? Number(raw) : DEFAULT_ADB_PORT;
  return { host: '127.0.0.1', port };
}

/** adbkit starts an adb server when none answers; leakscope does not start one behind the tester's back. */
function serverAnswers({ host, port }: AdbEndpoint): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(3000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface AttachedDevice {
  serial: string;
  /** adb's word: device, emulator, unauthorized, offline, … */
  state: string;
}

function withTimeout<T>(promise: PromiseLike<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    Promise.resolve(promise).finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms / 1000} s`)), ms);
    }),
  ]);
}

function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}

/** `adb reverse --remove`: adbkit has no call for it; the service is one line of the adb protocol. */
async function killReverse(device: DeviceClient, port: number): Promise<void> {
  const conn = await device.transport();
  try {
    const service = Buffer.from(`reverse:killforward:tcp:${port}`);
    conn.write(Buffer.concat([Buffer.from(service.length.toString(16).padStart(4, '0')), service]));
    for (let i = 0; i < 2; i++) {
      const reply = await conn.parser.readAscii(4);
      if (reply === 'FAIL') {
        const message = await conn.parser.readValue().then((b: Buffer) => b.toString());
        if (/not found/.test(message)) return; // nothing to remove
        throw new Error(`adb reverse --remove tcp:${port}: ${message}`);
      }
    }
  } finally {
    conn.end();
  }
}

function deviceFor(client: Client, serial: string): AndroidDevice {
  const device = client.getDevice(serial);
  return {
    serial,
    shell: (command) => withTimeout(device.shell(command).then(readAll), SHELL_TIMEOUT_MS, `adb shell on ${serial}`),
    push: async (contents, path, mode) => {
      const transfer = await device.push(Readable.from([Buffer.from(contents)]), path, mode);
      await new Promise<void>((resolve, reject) => {
        transfer.on('end', resolve);
        transfer.on('error', reject);
      });
    },
    reverse: async (port) => {
      await device.reverse(`tcp:${port}`, `tcp:${port}`);
    },
    removeReverse: (port) => killReverse(device, port),
    restartAdbdAsRoot: async () => {
      try {
        await device.root();
      } catch {
        return false; // "adbd cannot run as root in production builds"
      }
      await withTimeout(device.waitForDevice(), ROOT_RESTART_TIMEOUT_MS, `${serial} after adb root`);
      return true;
    },
  };
}

export interface AdbServer {
  endpoint: AdbEndpoint;
  list(): Promise<AttachedDevice[]>;
  device(serial: string): AndroidDevice;
}

/** The adb server, or exit 2 saying how to start one. */
export async function connectAdb(endpoint: AdbEndpoint = adbEndpoint()): Promise<AdbServer> {
  if (!(await serverAnswers(endpoint))) {
    throw new UsageError(
      `no adb server on ${endpoint.host}:${endpoint.port}: start it with \`adb start-server\` (Debian package adb), connect the phone with USB debugging on, and run this again`,
    );
  }
  const client = Adb.createClient({ host: endpoint.host, port: endpoint.port });
  client.on('error', () => {}); // each call reports its own failure
  return {
    endpoint,
    list: async () => (await withTimeout<Device[]>(client.listDevices(), SHELL_TIMEOUT_MS, 'adb devices')).map((d) => ({ serial: d.id, state: d.type })),
    device: (serial) => deviceFor(client, serial),
  };
}
