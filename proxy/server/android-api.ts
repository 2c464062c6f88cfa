// The dashboard's Setup view over ADB: GET /api/android/devices, POST /api/android/setup { serial } and
// POST /api/android/undo { serial }. Mounted inside the API router, so the mutations pass the same origin and
// JSON checks as every other. The device work is proxy/android's, the same as `leakscope android`'s; the
// devices set up here are undone when leakscope stops, so none is left pointing at a proxy that is gone.
import express from 'express';
import type { AndroidDevicesResponse } from '../../shared/android';
import { connectAdb } from '../android/adb';
import { chooseDevice, listAndroidDevices, setUpAndroid } from '../android/devices';
import { printable } from '../android/printable';
import { undoDevice } from '../android/setup';
import { UsageError } from '../cli/errors';
import { log } from '../log';

export interface AndroidDeps {
  caPem: string;
  /** the port the proxy really listens on */
  proxyPort: () => number;
}

export class AndroidSessions {
  /** serial → proxy port it was pointed at */
  private readonly active = new Map<string, number>();

  constructor(readonly deps: AndroidDeps) {}

  added(serial: string, port: number): void {
    this.active.set(serial, port);
  }

  portOf(serial: string): number | undefined {
    return this.active.get(serial);
  }

  removed(serial: string): void {
    this.active.delete(serial);
  }

  /** On stop: every device set up from the dashboard loses its proxy setting and reverse (failures are logged). */
  async undoAll(): Promise<void> {
    if (this.active.size === 0) return;
    const server = await connectAdb().catch(() => undefined);
    await Promise.all(
      [...this.active].map(async ([serial, port]) => {
        try {
          if (!server) throw new Error('the adb server is gone');
          await undoDevice(server.device(serial), port);
        } catch (err) {
          log.warn({ serial, err: (err as Error).message }, 'could not undo the Android proxy setting');
        }
      }),
    );
    this.active.clear();
  }
}

function serialOf(body: unknown): string | undefined {
  const serial = (body as { serial?: unknown } | undefined)?.serial;
  return typeof serial === 'string' && serial !== '' && serial.length <= 200 ? serial : undefined;
}

/** A device step that failed is the device's trouble (502); bad input and missing devices are the caller's (400). */
function sendError(res: express.Response, err: unknown): void {
  const status = err instanceof UsageError ? 400 : 502;
  res.status(status).json({ error: printable((err as Error).message, 500) });
}

export function androidRouter(sessions: AndroidSessions): express.Router {
  const router = express.Router();
  const planOpts = () => ({ systemCa: true, proxyPort: sessions.deps.proxyPort() });

  router.get('/devices', async (_req, res) => {
    let body: AndroidDevicesResponse;
    try {
      body = { devices: await listAndroidDevices(await connectAdb(), planOpts()) };
    } catch (err) {
      body = { devices: [], error: printable((err as Error).message, 500) };
    }
    res.json(body);
  });

  router.post('/setup', async (req, res) => {
    const serial = serialOf(req.body);
    if (!serial) return void res.status(400).json({ error: 'serial: the device serial, as GET /api/android/devices lists it' });
    try {
      const server = await connectAdb();
      const entry = chooseDevice(await listAndroidDevices(server, planOpts(), serial), serial);
      const result = await setUpAndroid(server, entry, { ...planOpts(), caPem: sessions.deps.caPem });
      sessions.added(serial, planOpts().proxyPort);
      res.json(result);
    } catch (err) {
      sendError(res, err);
    }
  });

  router.post('/undo', async (req, res) => {
    const serial = serialOf(req.body);
    if (!serial) return void res.status(400).json({ error: 'serial: the device serial, as GET /api/android/devices lists it' });
    try {
      const server = await connectAdb();
      if (!(await server.list()).some((d) => d.serial === serial)) throw new UsageError(`no device ${printable(serial, 64)} attached`);
      await undoDevice(server.device(serial), sessions.portOf(serial) ?? planOpts().proxyPort);
      sessions.removed(serial);
      res.json({ ok: true });
    } catch (err) {
      sendError(res, err);
    }
  });
  return router;
}
