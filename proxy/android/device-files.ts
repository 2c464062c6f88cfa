// What leakscope pushes to a device: the root script (a fixed file, never text built from input) and where
// things go. Every path here is a constant; the CA's file name is 8 hex digits and `.0`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export const INJECT_CA_SCRIPT = fs.readFileSync(path.join(here, 'inject-ca.sh'), 'utf8');

/** adb shell can write here on every Android version; root can read it from every mount namespace. */
export const DEVICE_DIR = '/data/local/tmp/leakscope';
export const DEVICE_SCRIPT = `${DEVICE_DIR}/inject-ca.sh`;
/** Where a tester finds the CA in the certificate installer's file picker (Downloads). */
export const DEVICE_DOWNLOAD = '/sdcard/Download/leakscope-ca.crt';
