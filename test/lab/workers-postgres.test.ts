// `start --workers 2 --store postgres://…`: the primary writes the lab's store through its outbox, as one
// process does, whichever worker captured the flow.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curl, startTestLeakscope, tempDir, type TestLeakscope } from '../helpers/leakscope';
import { postgresForTests } from '../helpers/postgres';
import { startUpstream, type Upstream } from '../helpers/upstream';

const IMEI = '865123456789012';

describe('two workers, one PostgreSQL store', () => {
  const env = postgresForTests();
  let upstream: Upstream;
  let app: TestLeakscope;
  let url: string;

  beforeAll(async () => {
    upstream = await startUpstream();
    url = env.pg.createDatabase('lab_workers');
    const identifiers = path.join(tempDir(), 'identifiers.json');
    fs.writeFileSync(identifiers, JSON.stringify({ devices: [{ name: 'Lab phone', imei: [IMEI] }] }));
    app = await startTestLeakscope({ upstreamCaPem: upstream.caPem, store: url, instance: 'rack-w', identifiersFile: identifiers, workers: 2 });
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await upstream?.close();
  });

  it('every flow of both workers is in PostgreSQL once its response has ended, flagged, with the instance', async () => {
    const runs = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) => curl(['-x', `http://127.0.0.1:${app.proxyPort}`, '--cacert', app.caFile, `${upstream.url}/collect?imei=${IMEI}&n=${i}`])),
    );
    for (const r of runs) expect(r.code).toBe(0);
    const rows = env.pg.query('lab_workers', `SELECT instance, flagged FROM flows WHERE url LIKE '%/collect?%' ORDER BY url`).trim().split('\n');
    expect(rows).toEqual(Array(6).fill('rack-w|t'));
    expect(app.store.outbox?.size()).toBe(0);
  });
});
