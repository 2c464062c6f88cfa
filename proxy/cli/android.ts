// `leakscope android`: sets up the phone attached over ADB (CA, adb reverse, proxy setting) and keeps it set up
// until Ctrl-C, which undoes the proxy setting and the reverse; so does every error on the way, and `--undo`.
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline/promises';
import { Command } from 'commander';
import { addFoundIdentifiers, describeDevice, FOUND_FIELDS, foundCount, type AndroidDeviceEntry, type AndroidSetupResult } from '../../shared/android';
import { parseIdentifiers } from '../../shared/identifiers';
import { lanAddresses } from '../app';
import { ensureCa } from '../certs/authority';
import { writeJsonFileAtomic } from '../config/json-file';
import { connectAdb, type AdbServer } from '../android/adb';
import { chooseDevice, listAndroidDevices, setUpAndroid } from '../android/devices';
import { printable } from '../android/printable';
import { undoDevice } from '../android/setup';
import { readIdentifiers } from './canaries';
import { resolveDataDir } from './data-dir';
import { UsageError } from './errors';
import { port } from './start';

type Say = (line: string) => void;

interface AndroidOptions {
  serial?: string;
  proxyPort: number;
  systemCa: boolean;
  wifi?: boolean;
  undo?: boolean;
  dataDir?: string;
  addIdentifiers?: string;
}

function printDevices(entries: AndroidDeviceEntry[], say: Say): void {
  for (const e of entries) {
    say(`${e.serial}  ${e.state}  ${e.facts ? describeDevice(e.facts) : (e.problem ?? '')}`);
    for (const step of e.plan ?? []) say(`    will: ${step}`);
  }
}

function listening(portNumber: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: portNumber });
    socket.setTimeout(2000, () => (socket.destroy(), resolve(false)));
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

function showIdentifiers(result: AndroidSetupResult, say: Say): void {
  say(`identifiers read from ${result.serial} (${result.deviceName}):`);
  for (const field of FOUND_FIELDS) for (const v of result.identifiers[field]) say(`    ${field}: ${v}`);
  for (const m of result.identifiers.missing) say(`    (${m})`);
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** `--add-identifiers FILE`, or a question when a person is at the terminal; never a question in a script. */
async function offerIdentifiers(result: AndroidSetupResult, opts: AndroidOptions, say: Say): Promise<void> {
  if (foundCount(result.identifiers) === 0) return;
  let file = opts.addIdentifiers;
  if (!file) {
    if (!process.stdin.isTTY) return say('(add them to an identifiers file with --add-identifiers FILE)');
    const fallback = path.join(resolveDataDir(opts.dataDir), 'identifiers.json');
    if (!(await confirm(`add them to ${fallback} as "${result.deviceName}"? [y/N] `))) return;
    file = fallback;
  }
  const { raw } = readIdentifiers(file);
  const updated = addFoundIdentifiers(raw, result.deviceName, result.identifiers);
  const parsed = parseIdentifiers(updated);
  if (!parsed.ok) throw new UsageError(`identifiers file ${file}: ${parsed.error}`);
  writeJsonFileAtomic(file, updated);
  say(`added them to ${file} as "${result.deviceName}" (a running leakscope picks the file up at its next start, or edit them in the dashboard)`);
}

function wifiAddress(): string {
  const [address] = lanAddresses();
  if (!address) throw new UsageError('--wifi: this machine has no LAN address (IPv4, not loopback); connect it to the phone\'s Wi-Fi, or drop --wifi to go through adb reverse');
  return address;
}

/**
 * Ctrl-C or SIGTERM: the first aborts `controller` and resolves `stopped`; later ones are held off until `release`,
 * so a second Ctrl-C cannot cut the undo short and leave the phone pointing at nothing.
 */
function stopSignals(controller: AbortController): { stopped: Promise<void>; release: () => void } {
  let resolve!: () => void;
  const stopped = new Promise<void>((r) => (resolve = r));
  const onSignal = () => {
    if (controller.signal.aborted) return void process.stderr.write('leakscope android: undoing the proxy setting first, one moment\n');
    controller.abort(new Error('stopped (Ctrl-C)'));
    resolve();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stopped,
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** Sets the device up and holds it so until Ctrl-C; whatever ends it, the proxy setting and the reverse are undone. */
async function interceptUntilStopped(
  server: AdbServer,
  entry: AndroidDeviceEntry,
  { opts, say, ...planOpts }: { opts: AndroidOptions; say: Say; systemCa: boolean; lanAddress?: string; proxyPort: number },
): Promise<void> {
  const device = server.device(entry.serial);
  const controller = new AbortController();
  const { stopped, release } = stopSignals(controller);
  try {
    const caPem = (await ensureCa(path.join(resolveDataDir(opts.dataDir), 'ca'))).certPem;
    let result: AndroidSetupResult;
    try {
      result = await setUpAndroid(server, entry, { ...planOpts, caPem, signal: controller.signal, say });
    } catch (err) {
      if (!controller.signal.aborted) throw err;
      say(`${entry.serial}: stopped before the setup finished; proxy setting cleared, reverse removed`);
      return;
    }
    try {
      showIdentifiers(result, say);
      await offerIdentifiers(result, opts, say);
      controller.signal.throwIfAborted();
      say(`${entry.serial} goes through leakscope now; Ctrl-C clears its proxy setting and the reverse`);
      await stopped;
    } finally {
      await undoDevice(device, opts.proxyPort);
      say(`${entry.serial}: proxy setting cleared, adb reverse tcp:${opts.proxyPort} removed`);
    }
  } finally {
    release();
  }
}

async function run(opts: AndroidOptions): Promise<void> {
  // Serials and device names come from devices: no control characters reach the terminal.
  const say = (line: string) => process.stdout.write(`${printable(line, 2000)}\n`);
  const lanAddress = opts.wifi ? wifiAddress() : undefined;
  const server = await connectAdb();
  const planOpts = { systemCa: opts.systemCa, lanAddress, proxyPort: opts.proxyPort };
  const entries = await listAndroidDevices(server, planOpts, opts.serial);
  printDevices(entries, say);
  const entry = chooseDevice(entries, opts.serial);

  if (opts.undo) {
    await undoDevice(server.device(entry.serial), opts.proxyPort);
    say(`${entry.serial}: proxy setting cleared, adb reverse tcp:${opts.proxyPort} removed (a system-store CA stays until the device reboots)`);
    return;
  }
  if (!(await listening(opts.proxyPort))) say(`note: nothing listens on 127.0.0.1:${opts.proxyPort} yet; start leakscope (npm start) or the phone has no network until you do`);

  await interceptUntilStopped(server, entry, { ...planOpts, opts, say });
}

export function androidCommand(): Command {
  return new Command('android')
    .description('set up the phone attached over ADB: adb reverse, proxy setting, CA (system store when rooted); Ctrl-C undoes it')
    .option('--serial <serial>', 'the device to set up, when several are attached')
    .option('--proxy-port <port>', 'leakscope proxy port', port, 8080)
    .option('--no-system-ca', 'leave the system store alone: push the CA to Downloads and open the certificate installer')
    .option('--wifi', "point the phone at this machine's LAN address instead of adb reverse")
    .option('--undo', 'clear the proxy setting and remove the reverse, then exit')
    .option('--data-dir <dir>', 'where the CA lives (default ~/.leakscope)')
    .option('--add-identifiers <file>', 'add the identifiers read from the device to this identifiers file (created if missing)')
    .action(async (opts: AndroidOptions) => {
      try {
        await run(opts);
      } catch (err) {
        if (err instanceof UsageError) throw err;
        // A device that fails a step: one line, exit 1 (what was set has been undone on the way out).
        process.stderr.write(`leakscope android: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
