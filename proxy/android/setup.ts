// Setting up one device for leakscope and undoing it: the CA (system store where root allows, else Downloads and
// the certificate installer), `adb reverse` and the global HTTP proxy setting. The CLI (`leakscope android`) and
// the dashboard (POST /api/android/setup) both come here.
import { X509Certificate } from 'node:crypto';
import type { AndroidFacts, CaOutcome, RootAccess } from '../../shared/android';
import { DEVICE_DIR, DEVICE_DOWNLOAD, DEVICE_SCRIPT, INJECT_CA_SCRIPT } from './device-files';
import { APEX_STORE_SDK, type AndroidDevice } from './device';
import { printable } from './printable';
import { systemStoreName } from './subject-hash';

export interface SetupOptions {
  proxyPort: number;
  /** `--wifi`: the laptop's LAN address the phone reaches; without it, 127.0.0.1 through `adb reverse` */
  lanAddress?: string;
  /** false (`--no-system-ca`): the CA goes the unrooted way, to Downloads and the certificate installer */
  systemCa: boolean;
  caPem: string;
  /** Ctrl-C: the setup stops between steps and undoes what it did */
  signal?: AbortSignal;
  say?: (line: string) => void;
}

export interface SetupDone {
  proxy: string;
  reverse: boolean;
  ca: CaOutcome;
}

/** The keys Android keeps a global proxy in; all of them go on undo, so nothing points at a proxy that is gone. */
const PROXY_KEYS = ['http_proxy', 'global_http_proxy_host', 'global_http_proxy_port', 'global_http_proxy_exclusion_list', 'global_proxy_pac_url'];
export const CLEAR_PROXY = ['settings put global http_proxy :0', ...PROXY_KEYS.map((k) => `settings delete global ${k}`)].join('; ');
const GET_PROXY = 'settings get global http_proxy';

function checkedPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`proxy port ${port}: expected 1 to 65535`);
  return port;
}

function proxyAddress(opts: SetupOptions): string {
  const host = opts.lanAddress ?? '127.0.0.1';
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) throw new Error(`${host}: not an IPv4 address`);
  return `${host}:${checkedPort(opts.proxyPort)}`;
}


function usesSystemStore(facts: AndroidFacts, opts: Pick<SetupOptions, 'systemCa'>): boolean {
  return opts.systemCa && facts.root !== 'none';
}

const STORE_PATH = (sdk: number) => (sdk >= APEX_STORE_SDK ? '/apex/com.android.conscrypt/cacerts' : '/system/etc/security/cacerts');

/** What setting the device up will do, one line per step, before anything is done. */
export function planFor(facts: AndroidFacts, opts: Pick<SetupOptions, 'systemCa' | 'lanAddress' | 'proxyPort'>): string[] {
  const how: Record<RootAccess, string> = { adbd: 'as root', su: 'as root via su', 'su-0': 'as root via su 0', 'adb-root': 'as root after adb root', none: '' };
  const ca = usesSystemStore(facts, opts)
    ? `CA into the system store (${STORE_PATH(facts.sdk)}, a tmpfs until reboot) ${how[facts.root]}`
    : `CA to ${DEVICE_DOWNLOAD} and the certificate installer (${facts.root === 'none' ? 'not rooted' : '--no-system-ca'}): the tester taps through it; apps targeting Android 7+ will still not trust it`;
  const traffic = opts.lanAddress
    ? `global HTTP proxy ${opts.lanAddress}:${opts.proxyPort} (Wi-Fi: phone and laptop on the same network)`
    : `adb reverse tcp:${opts.proxyPort} tcp:${opts.proxyPort} and global HTTP proxy 127.0.0.1:${opts.proxyPort}`;
  return [ca, traffic];
}

function asRoot(access: RootAccess, command: string): string {
  if (command.includes("'")) throw new Error('a root command must not contain quotes');
  if (access === 'su') return `su -c '${command}'`;
  if (access === 'su-0') return `su 0 ${command}`;
  return command;
}

async function rootForScript(device: AndroidDevice, access: RootAccess): Promise<RootAccess> {
  if (access !== 'adb-root') return access;
  if (!(await device.restartAdbdAsRoot()) || (await device.shell('id -u')).trim() !== '0') {
    throw new Error(`${device.serial}: adb root did not give a root shell (a production build?); run with --no-system-ca`);
  }
  return 'adbd';
}

const OK_LINE = /^leakscope-ca: ok store=(\S+) name=(\S+) certificates=(\d+) namespaces=(\d+)$/m;

async function injectSystemCa(device: AndroidDevice, facts: AndroidFacts, caPem: string): Promise<CaOutcome> {
  const name = systemStoreName(caPem);
  const access = await rootForScript(device, facts.root);
  await device.shell(`mkdir -p ${DEVICE_DIR}`);
  await device.push(INJECT_CA_SCRIPT, DEVICE_SCRIPT, 0o644);
  await device.push(caPem, `${DEVICE_DIR}/${name}`, 0o644);
  const output = await device.shell(`${asRoot(access, `sh ${DEVICE_SCRIPT} ${DEVICE_DIR}/${name}`)}; echo leakscope-exit:$?`);
  const ok = OK_LINE.exec(output);
  if (!output.includes('leakscope-exit:0') || !ok || ok[2] !== name) {
    throw new Error(`${device.serial}: putting the CA into the system store failed: ${printable(output)}`);
  }
  return { kind: 'system', store: ok[1], name, certificates: Number(ok[3]), namespaces: Number(ok[4]) };
}

/** Android 11 (SDK 30) stopped installing CAs from an intent: only Settings can. */
const SETTINGS_ONLY_SDK = 30;

async function offerUserCa(device: AndroidDevice, facts: AndroidFacts, caPem: string): Promise<CaOutcome> {
  await device.push(Buffer.from(new X509Certificate(caPem).raw), DEVICE_DOWNLOAD, 0o644);
  if (facts.sdk >= SETTINGS_ONLY_SDK) {
    await device.shell('am start -a android.settings.SECURITY_SETTINGS');
    return {
      kind: 'user',
      file: DEVICE_DOWNLOAD,
      taps: 'Settings is open on the phone: Encryption & credentials (under More security settings on some phones) → Install a certificate → CA certificate → Install anyway → Downloads → leakscope-ca.crt',
    };
  }
  await device.shell(`am start -a android.intent.action.VIEW -t application/x-x509-ca-cert -d file://${DEVICE_DOWNLOAD}`);
  return {
    kind: 'user',
    file: DEVICE_DOWNLOAD,
    taps: 'the certificate installer is open on the phone: name it leakscope, choose "VPN and apps" if asked, tap OK (Android asks for a screen lock if there is none)',
  };
}

/**
 * Sets the device up: the CA first (`adb root` restarts adbd, which would drop a reverse made before), then the
 * reverse, then the proxy setting, read back to check it. Any failure or Ctrl-C on the way undoes the proxy
 * setting and the reverse before the error goes on.
 */
export async function setupDevice(device: AndroidDevice, facts: AndroidFacts, opts: SetupOptions): Promise<SetupDone> {
  const say = opts.say ?? (() => {});
  const proxy = proxyAddress(opts);
  try {
    opts.signal?.throwIfAborted();
    const ca = usesSystemStore(facts, opts) ? await injectSystemCa(device, facts, opts.caPem) : await offerUserCa(device, facts, opts.caPem);
    say(ca.kind === 'system' ? `${device.serial}: CA ${ca.name} in ${ca.store} (${ca.certificates} certificates, ${ca.namespaces} mount namespaces)` : `${device.serial}: ${ca.taps}`);
    opts.signal?.throwIfAborted();
    if (!opts.lanAddress) {
      await device.reverse(opts.proxyPort);
      say(`${device.serial}: adb reverse tcp:${opts.proxyPort} tcp:${opts.proxyPort}`);
    }
    opts.signal?.throwIfAborted();
    await device.shell(`settings put global http_proxy ${proxy}`);
    const now = (await device.shell(GET_PROXY)).trim();
    if (now !== proxy) throw new Error(`${device.serial}: the proxy setting reads back as "${printable(now, 60)}", not ${proxy}`);
    say(`${device.serial}: global HTTP proxy ${proxy}`);
    return { proxy, reverse: !opts.lanAddress, ca };
  } catch (err) {
    await undoDevice(device, opts.proxyPort).catch((undoErr: Error) => say(`${device.serial}: undo failed too: ${undoErr.message}`));
    throw err;
  }
}

/**
 * Clears the proxy setting (all its keys) and removes the reverse. Both are tried whatever happens to the other;
 * the CA stays in the store until the device reboots (it is a tmpfs).
 */
export async function undoDevice(device: AndroidDevice, proxyPort: number): Promise<void> {
  const problems: string[] = [];
  try {
    await device.shell(CLEAR_PROXY);
    const now = (await device.shell(GET_PROXY)).trim();
    if (now !== 'null' && now !== '' && now !== ':0') problems.push(`the proxy setting is still "${printable(now, 60)}"`);
  } catch (err) {
    problems.push(`clearing the proxy setting: ${(err as Error).message}`);
  }
  try {
    await device.removeReverse(checkedPort(proxyPort));
  } catch (err) {
    problems.push(`removing adb reverse tcp:${proxyPort}: ${(err as Error).message}`);
  }
  if (problems.length) throw new Error(`${device.serial}: ${problems.join('; ')}`);
}
