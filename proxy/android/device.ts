// One Android device as leakscope drives it, and what it learns about it before changing anything. Every shell
// command leakscope sends is built here or in setup.ts from constants and checked numbers: nothing a device or a
// user typed is ever part of a command line.
import type { AndroidFacts, RootAccess } from '../../shared/android';
import { printable } from './printable';

/** What leakscope needs of a device; adb.ts implements it over adbkit, tests over a script of answers. */
export interface AndroidDevice {
  readonly serial: string;
  /** runs a command line on the device's shell; stdout and stderr, as adb's shell service mixes them */
  shell(command: string): Promise<string>;
  push(contents: string | Buffer, devicePath: string, mode: number): Promise<void>;
  /** `adb reverse tcp:PORT tcp:PORT` */
  reverse(port: number): Promise<void>;
  /** `adb reverse --remove tcp:PORT`; nothing to remove is not an error */
  removeReverse(port: number): Promise<void>;
  /** `adb root`, then wait until a shell runs as root; resolves true once `id -u` says 0; false where the build does not allow it */
  restartAdbdAsRoot(): Promise<boolean>;
}

/** `[ro.product.model]: [Pixel 7]` lines of `getprop`, as a map. */
export function parseGetprop(output: string): Map<string, string> {
  const props = new Map<string, string>();
  for (const m of output.matchAll(/^\[([^\]]+)\]: \[(.*)\]\s*$/gm)) props.set(m[1], m[2]);
  return props;
}

const isRootUid = (output: string) => output.trim() === '0';

/** Each way to run a command as root, in the order tried; `su -c` is Magisk's, SuperSU's and KernelSU's, `su 0` AOSP's. */
const SU_FORMS: { access: RootAccess; probe: string }[] = [
  { access: 'su', probe: "su -c 'id -u'" },
  { access: 'su-0', probe: 'su 0 id -u' },
];

async function rootAccess(device: AndroidDevice, props: Map<string, string>): Promise<RootAccess> {
  if (isRootUid(await device.shell('id -u'))) return 'adbd';
  for (const form of SU_FORMS) {
    // A root manager may ask on the phone's screen and time out: that is "not rooted" for now.
    const answer = await device.shell(form.probe).catch(() => '');
    if (isRootUid(answer)) return form.access;
  }
  return props.get('ro.debuggable') === '1' ? 'adb-root' : 'none';
}

export async function probeDevice(device: AndroidDevice): Promise<AndroidFacts> {
  const props = parseGetprop(await device.shell('getprop'));
  const sdk = Number(props.get('ro.build.version.sdk'));
  // What the device says about itself is shown in terminals and names a device in the identifiers file.
  const prop = (key: string) => printable(props.get(key) ?? '', 64);
  return {
    serial: device.serial,
    model: prop('ro.product.model'),
    manufacturer: prop('ro.product.manufacturer'),
    androidVersion: prop('ro.build.version.release'),
    sdk: Number.isInteger(sdk) ? sdk : 0,
    emulator: props.get('ro.kernel.qemu') === '1' || props.get('ro.boot.qemu') === '1' || device.serial.startsWith('emulator-'),
    root: await rootAccess(device, props),
  };
}

/** Android 14 (SDK 34) moved the system store into the Conscrypt APEX. */
export const APEX_STORE_SDK = 34;
