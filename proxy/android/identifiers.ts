// "Identifiers for free": what the adb shell can read of a device's identifiers, checked before it is believed.
// IMEI and IMSI come from the telephony service's binder interface (`service call iphonesubinfo CODE`), whose
// transaction codes move between Android versions and vendors: a code that means something else on this build
// answers with something else, so a value is kept only when it passes the same checks the detector uses (Luhn and
// allocated reporting bodies for an IMEI, an allocated MCC for an IMSI), and never when it equals the other one.
import type { AndroidFacts, FoundIdentifiers } from '../../shared/android';
import { plausibleImei, validMcc } from '../detect/patterns/validators';
import type { AndroidDevice } from './device';
import { parseGetprop } from './device';

/**
 * The string in a `service call` reply: `Result: Parcel(0x00000000: 00000000 0000000f 00360038 ... '..8.6.')`.
 * Word 0 is the exception code (0: none), word 1 the string's length in UTF-16 units (-1: null), then two units
 * per 32-bit word, low half first. Undefined for an exception, a null string or anything unexpected.
 */
export function parcelString(reply: string): string | undefined {
  const body = /Parcel\(([\s\S]*)\)/.exec(reply)?.[1];
  if (body === undefined) return undefined;
  const words = body
    .replace(/'[^']*'/g, ' ')
    .replace(/0x[0-9a-f]+:/gi, ' ')
    .match(/\b[0-9a-f]{8}\b/gi)
    ?.map((w) => parseInt(w, 16));
  if (!words || words.length < 2 || words[0] !== 0 || words[1] === 0xffffffff) return undefined;
  const length = words[1];
  const units: number[] = [];
  for (const w of words.slice(2)) units.push(w & 0xffff, w >>> 16);
  if (units.length < length) return undefined;
  return String.fromCharCode(...units.slice(0, length));
}

const isImsi = (v: string) => /^\d{15}$/.test(v) && validMcc(v);

/** getDeviceId(callingPackage) has been transaction 1 since Android 5; getSubscriberId moved from 7 to 8 in Android 11. */
const IMEI_CALLS = ['service call iphonesubinfo 1 s16 com.android.shell'];
const IMSI_CALLS = (sdk: number) => (sdk >= 30 ? [8, 7] : [7, 8]).map((code) => `service call iphonesubinfo ${code} s16 com.android.shell`);

async function firstValid(device: AndroidDevice, calls: string[], valid: (v: string) => boolean): Promise<string | undefined> {
  for (const call of calls) {
    const value = parcelString(await device.shell(call).catch(() => ''))?.trim();
    if (value && valid(value)) return value;
  }
  return undefined;
}

export async function readDeviceIdentifiers(device: AndroidDevice, facts: AndroidFacts): Promise<FoundIdentifiers> {
  const found: FoundIdentifiers = { android_id: [], serial_number: [], imei: [], imsi: [], missing: [] };
  const androidId = (await device.shell('settings get secure android_id')).trim();
  if (/^[0-9a-f]{12,16}$/i.test(androidId)) found.android_id.push(androidId.toLowerCase());
  else found.missing.push('android_id: the shell could not read it');

  const props = parseGetprop(await device.shell('getprop'));
  const serial = props.get('ro.serialno') || props.get('ro.boot.serialno') || '';
  if (/^[A-Za-z0-9]{4,32}$/.test(serial) && serial !== 'unknown') found.serial_number.push(serial);
  else found.missing.push('serial_number: ro.serialno is empty (Android 8+ hides it from apps, some builds from adb too)');

  const imei = await firstValid(device, IMEI_CALLS, plausibleImei);
  if (imei) found.imei.push(imei);
  else found.missing.push(`imei: not readable from the shell on Android ${facts.androidVersion || '?'} (or the device has no modem)`);

  const imsi = await firstValid(device, IMSI_CALLS(facts.sdk), (v) => isImsi(v) && v !== imei);
  if (imsi) found.imsi.push(imsi);
  else found.missing.push(`imsi: not readable from the shell on Android ${facts.androidVersion || '?'} (or no SIM)`);
  return found;
}

/** The name a device gets in the identifiers file: its model, as the tester would call it. */
export function deviceName(facts: AndroidFacts): string {
  return [facts.manufacturer, facts.model].filter(Boolean).join(' ') || facts.serial;
}
