// The devices the adb server sees, each with what it is and what setting it up will do, and the one to set up.
// Shared by `leakscope android` and GET/POST /api/android/*.
import type { AndroidDeviceEntry, AndroidSetupResult } from '../../shared/android';
import { UsageError } from '../cli/errors';
import type { AdbServer } from './adb';
import { probeDevice } from './device';
import { deviceName, readDeviceIdentifiers } from './identifiers';
import { printable } from './printable';
import { planFor, setupDevice, type SetupOptions } from './setup';

const READY_STATES = new Set(['device', 'emulator']);

/** What to do about a device adb cannot use yet (serials are the device's own words: shown, never run). */
function stateProblem(serial: string, state: string): string {
  const who = printable(serial, 64);
  if (state === 'unauthorized') return `${who} is unauthorized: unlock it, tap Allow on its "Allow USB debugging?" prompt, and run this again`;
  if (state === 'offline') return `${who} is offline: reconnect its cable (or run \`adb reconnect\`) and run this again`;
  return `${who} is ${printable(state, 32)}: wait until it has booted and run this again`;
}

export async function listAndroidDevices(server: AdbServer, opts: Pick<SetupOptions, 'systemCa' | 'lanAddress' | 'proxyPort'>, serial?: string): Promise<AndroidDeviceEntry[]> {
  const attached = (await server.list()).filter((d) => serial === undefined || d.serial === serial);
  return Promise.all(
    attached.map(async ({ serial, state }): Promise<AndroidDeviceEntry> => {
      if (!READY_STATES.has(state)) return { serial, state, problem: stateProblem(serial, state) };
      try {
        const facts = await probeDevice(server.device(serial));
        return { serial, state, facts, plan: planFor(facts, opts) };
      } catch (err) {
        return { serial, state, problem: `${printable(serial, 64)}: cannot read it over adb: ${printable((err as Error).message)}` };
      }
    }),
  );
}

/** The one device to set up, or exit 2 with a line saying what to do. */
export function chooseDevice(entries: AndroidDeviceEntry[], serial?: string): AndroidDeviceEntry {
  if (entries.length === 0) {
    throw new UsageError(
      serial === undefined
        ? 'no Android device attached: connect one with USB debugging on (or start an emulator) and run this again'
        : `no device ${printable(serial, 64)} attached: \`adb devices\` lists the serials`,
    );
  }
  if (entries.length > 1) throw new UsageError(`${entries.length} devices attached (${entries.map((e) => printable(e.serial, 64)).join(', ')}): choose one with --serial`);
  const [entry] = entries;
  if (entry.problem || !entry.facts) throw new UsageError(entry.problem ?? `${entry.serial}: not ready`);
  return entry;
}

/** Sets the chosen device up and reads its identifiers (which never fail the setup). */
export async function setUpAndroid(server: AdbServer, entry: AndroidDeviceEntry, opts: SetupOptions): Promise<AndroidSetupResult> {
  if (!entry.facts) throw new UsageError(entry.problem ?? `${entry.serial}: not ready`);
  const device = server.device(entry.serial);
  const done = await setupDevice(device, entry.facts, opts);
  const identifiers = await readDeviceIdentifiers(device, entry.facts).catch((err: Error) => ({
    android_id: [],
    serial_number: [],
    imei: [],
    imsi: [],
    missing: [`reading identifiers failed: ${printable(err.message)}`],
  }));
  return { serial: entry.serial, ...done, deviceName: deviceName(entry.facts), identifiers };
}
