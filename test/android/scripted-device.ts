// A stand-in for an Android device's adb side, for the setup and undo logic: it keeps the global settings and
// the reverses, answers the shell commands leakscope sends as Android's `settings`, `getprop`, `id`, `su` and
// `service call` would, and records every call in order. It is not a device: the root script's answer is
// scripted here (the script itself runs for real in inject-ca.test.ts), and nothing checks Android's own
// behaviour, only what leakscope asks for and what it does with the answers.
import type { AndroidDevice } from '../../proxy/android/device';

export interface ScriptedDeviceOptions {
  serial?: string;
  sdk?: number;
  release?: string;
  root?: 'adbd' | 'su' | 'none';
  /** a command (or `reverse`/`removeReverse`) that fails when first seen */
  failOn?: RegExp;
  /** what `settings get global http_proxy` answers after a put, instead of the value put */
  proxyReadsBack?: string;
  /** IMEI and IMSI behind `service call iphonesubinfo` codes 1 and 8 */
  imei?: string;
  imsi?: string;
  androidId?: string;
  serialNumber?: string;
  model?: string;
}

/** A `service call` reply for a string, laid out as Android's Parcel dump prints it. */
export function parcelReply(value: string | undefined): string {
  const words = [0, value === undefined ? 0xffffffff : value.length];
  const units = [...(value ?? '')].map((c) => c.charCodeAt(0));
  for (let i = 0; i < units.length; i += 2) words.push((units[i] | ((units[i + 1] ?? 0) << 16)) >>> 0);
  const lines: string[] = [];
  for (let i = 0; i < words.length; i += 4) {
    const hex = words.slice(i, i + 4).map((w) => w.toString(16).padStart(8, '0'));
    lines.push(`  0x${(i * 4).toString(16).padStart(8, '0')}: ${hex.join(' ').padEnd(35)} '................'`);
  }
  return `Result: Parcel(\n${lines.join('\n')})\n`;
}

export class ScriptedDevice implements AndroidDevice {
  readonly serial: string;
  readonly calls: string[] = [];
  readonly settings = new Map<string, string>();
  readonly reverses = new Set<number>();
  readonly files = new Map<string, { contents: Buffer; mode: number }>();
  private failOn?: RegExp;

  constructor(private readonly o: ScriptedDeviceOptions = {}) {
    this.serial = o.serial ?? 'R58M123ABC';
    this.failOn = o.failOn;
  }

  private maybeFail(what: string): void {
    if (this.failOn?.test(what)) {
      this.failOn = undefined;
      throw new Error(`scripted failure at ${what}`);
    }
  }

  private getprop(): string {
    const props: Record<string, string> = {
      'ro.product.model': this.o.model ?? 'Pixel 7',
      'ro.product.manufacturer': 'Google',
      'ro.build.version.release': this.o.release ?? '14',
      'ro.build.version.sdk': String(this.o.sdk ?? 34),
      'ro.debuggable': '0',
      'ro.serialno': this.o.serialNumber ?? '',
    };
    return Object.entries(props).map(([k, v]) => `[${k}]: [${v}]`).join('\n') + '\n';
  }

  private one(command: string): string {
    let m: RegExpExecArray | null;
    if (command === 'getprop') return this.getprop();
    if (command === 'id -u') return this.o.root === 'adbd' ? '0\n' : '2000\n';
    if (command === "su -c 'id -u'") return this.o.root === 'su' ? '0\n' : '/system/bin/sh: su: inaccessible or not found\n';
    if (command === 'su 0 id -u') return '/system/bin/sh: su: inaccessible or not found\n';
    if ((m = /^settings put global (\S+) (\S+)$/.exec(command))) {
      this.settings.set(m[1], m[2]);
      return '';
    }
    if ((m = /^settings delete global (\S+)$/.exec(command))) {
      const had = this.settings.delete(m[1]);
      return `Deleted ${had ? 1 : 0} rows\n`;
    }
    if ((m = /^settings get global (\S+)$/.exec(command))) {
      const v = this.settings.get(m[1]);
      if (m[1] === 'http_proxy' && v !== undefined && v !== ':0' && this.o.proxyReadsBack) return `${this.o.proxyReadsBack}\n`;
      return `${v ?? 'null'}\n`;
    }
    if (command === 'settings get secure android_id') return `${this.o.androidId ?? 'null'}\n`;
    if ((m = /^service call iphonesubinfo (\d+) s16 com\.android\.shell$/.exec(command))) {
      const code = Number(m[1]);
      if (code === 1) return parcelReply(this.o.imei);
      if (code === 8) return parcelReply(this.o.imsi);
      return 'Result: Parcel(fffffffc ffffffff \'........\')\n'; // an exception
    }
    if (/^mkdir -p |^am start /.test(command)) return '';
    if ((m = /^su -c 'sh (\S+) (\S+)'; echo leakscope-exit:\$\?$|^sh (\S+) (\S+); echo leakscope-exit:\$\?$/.exec(command))) {
      const cert = (m[2] ?? m[4]).split('/').pop();
      const store = (this.o.sdk ?? 34) >= 34 ? '/apex/com.android.conscrypt/cacerts' : '/system/etc/security/cacerts';
      return `leakscope-ca: namespace mnt:[1] ${store} holds 140 certificates\nleakscope-ca: ok store=${store} name=${cert} certificates=140 namespaces=37\nleakscope-exit:0\n`;
    }
    throw new Error(`scripted device: unexpected command ${command}`);
  }

  async shell(command: string): Promise<string> {
    this.calls.push(command);
    this.maybeFail(command);
    // `settings` lines chained with `; ` run one after another, as the device shell would run them.
    const whole = command.includes("'") || command.includes('leakscope-exit');
    return whole ? this.one(command) : command.split('; ').map((c) => this.one(c)).join('');
  }

  async push(contents: string | Buffer, devicePath: string, mode: number): Promise<void> {
    this.calls.push(`push ${devicePath}`);
    this.maybeFail(`push ${devicePath}`);
    this.files.set(devicePath, { contents: Buffer.from(contents), mode });
  }

  async reverse(port: number): Promise<void> {
    this.calls.push(`reverse tcp:${port}`);
    this.maybeFail('reverse');
    this.reverses.add(port);
  }

  async removeReverse(port: number): Promise<void> {
    this.calls.push(`reverse --remove tcp:${port}`);
    this.maybeFail('removeReverse');
    this.reverses.delete(port);
  }

  async restartAdbdAsRoot(): Promise<boolean> {
    this.calls.push('adb root');
    return false;
  }
}
