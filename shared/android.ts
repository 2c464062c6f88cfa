// `leakscope android` and the dashboard's Setup view: the phones attached over ADB, what setting one up does,
// and the identifiers read from it. Shapes of GET /api/android/devices and POST /api/android/setup.

/** How leakscope gets root on the device: adbd already root, `su -c`, AOSP's `su 0`, `adb root` (restarts adbd), or none. */
export type RootAccess = 'adbd' | 'su' | 'su-0' | 'adb-root' | 'none';

export interface AndroidFacts {
  serial: string;
  model: string;
  manufacturer: string;
  /** ro.build.version.release, e.g. "14" */
  androidVersion: string;
  sdk: number;
  emulator: boolean;
  root: RootAccess;
}

/** One attached device: adb's state, and for a usable one what it is and what setting it up will do. */
export interface AndroidDeviceEntry {
  serial: string;
  /** adb's word: device, emulator, unauthorized, offline… */
  state: string;
  facts?: AndroidFacts;
  plan?: string[];
  /** why it cannot be set up, and what to do about it */
  problem?: string;
}

/** GET /api/android/devices. `error`: the adb server is not there (and how to start it). */
export interface AndroidDevicesResponse {
  devices: AndroidDeviceEntry[];
  error?: string;
}

/** Values the adb shell could read, by identifiers-file field. */
export interface FoundIdentifiers {
  android_id: string[];
  serial_number: string[];
  imei: string[];
  imsi: string[];
  /** what could not be read, and why (e.g. "imei: not readable from the shell on Android 14") */
  missing: string[];
}

export type CaOutcome =
  | { kind: 'system'; store: string; name: string; certificates: number; namespaces: number }
  | { kind: 'user'; file: string; taps: string };

/** POST /api/android/setup { serial } answers this; the proxy setting stays until undone or leakscope stops. */
export interface AndroidSetupResult {
  serial: string;
  /** the global HTTP proxy setting, host:port */
  proxy: string;
  reverse: boolean;
  ca?: CaOutcome;
  /** the name the device gets in the identifiers file */
  deviceName: string;
  identifiers: FoundIdentifiers;
}

/** `Pixel 7 (Android 14, rooted via su)` */
export function describeDevice(f: AndroidFacts): string {
  const rooted: Record<RootAccess, string> = {
    adbd: 'adbd runs as root',
    su: 'rooted via su',
    'su-0': 'rooted via su 0',
    'adb-root': 'rooted via adb root (userdebug build or emulator)',
    none: 'not rooted',
  };
  const what = f.emulator ? 'emulator' : [f.manufacturer, f.model].filter(Boolean).join(' ') || 'device';
  return `${what}${f.emulator && f.model ? ` ${f.model}` : ''} (Android ${f.androidVersion || '?'}, SDK ${f.sdk || '?'}, ${rooted[f.root]})`;
}

const FOUND_FIELDS = ['android_id', 'serial_number', 'imei', 'imsi'] as const;

type RawDevice = Record<string, unknown> & { name?: unknown };

/**
 * The identifiers file (as written, unknown fields kept) with the found values added to the device called
 * `name` (created if missing); values it already lists are not repeated.
 */
export function addFoundIdentifiers<T extends Record<string, unknown>>(raw: T, name: string, found: FoundIdentifiers): T {
  const devices: RawDevice[] = (Array.isArray(raw.devices) ? raw.devices : []).map((d: RawDevice) => ({ ...d }));
  let device = devices.find((d) => d.name === name);
  if (!device) {
    device = { name };
    devices.push(device);
  }
  for (const field of FOUND_FIELDS) {
    const have = Array.isArray(device[field]) ? (device[field] as unknown[]) : [];
    const fresh = found[field].filter((v) => !have.includes(v));
    if (fresh.length) device[field] = [...have, ...fresh];
  }
  return { ...raw, devices };
}

export function foundCount(found: FoundIdentifiers): number {
  return FOUND_FIELDS.reduce((n, f) => n + found[f].length, 0);
}

export { FOUND_FIELDS };
