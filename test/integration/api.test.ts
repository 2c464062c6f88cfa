// The dashboard API's mutations and downloads, against a real leakscope with a real proxy in front of an upstream.
import { describe, expect, it } from 'vitest';
import type { DeviceInfo, StatsResponse } from '../../shared/api';
import type { Identifiers } from '../../shared/identifiers';
import type { FlowSummary } from '../../shared/types';
import { asDashboard, curl, proxyInFrontOfUpstream, waitFor } from '../helpers/leakscope';

describe('dashboard API', () => {
  const env = proxyInFrontOfUpstream();
  const json = (method: string, body: unknown) => asDashboard(env.app, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const proxied = (url: string, ...args: string[]) => curl(['-x', `http://127.0.0.1:${env.app.proxyPort}`, '--cacert', env.app.caFile, ...args, url]);

  it('hands out canary contacts as vCard and watches for them at once', async () => {
    const res = await fetch(`${env.app.uiUrl}api/canaries.vcf`, json('POST', { count: 3 }));
    expect(res.headers.get('content-type')).toMatch(/^text\/vcard/);
    const cards = (await res.text()).split('END:VCARD').filter((c) => c.includes('BEGIN:VCARD'));
    expect(cards).toHaveLength(3);
    const phone = /TEL;TYPE=CELL:(.+)\r\n/.exec(cards[1])![1];
    const ids = (await (await fetch(`${env.app.uiUrl}api/identifiers`)).json()) as Identifiers;
    expect(ids.devices.flatMap((d) => d.contacts.flatMap((c) => c.phone))).toContain(phone);

    await proxied(`${env.upstream.url}/contacts-upload`, '-H', 'content-type: application/json', '--data', JSON.stringify({ contacts: [{ tel: phone }] }));
    const flow = await waitFor(async () =>
      ((await (await fetch(`${env.app.uiUrl}api/flows?flagged=1`)).json()) as FlowSummary[]).find((f) => f.url.endsWith('/contacts-upload')),
    );
    expect(flow.findings).toContainEqual(expect.objectContaining({ type: 'contact', confidence: 'known', path: '$.contacts[0].tel' }));
  });

  it('reports the flows stored and the event-loop delay', async () => {
    await proxied(`${env.upstream.url}/stats-probe`);
    const stats = (await (await fetch(`${env.app.uiUrl}api/stats`)).json()) as StatsResponse;
    expect(stats.flows).toBe(env.app.store.count());
    expect(stats.flows).toBeGreaterThan(0);
    expect(stats.eventLoopDelay).toMatchObject({ meanMs: expect.any(Number), p99Ms: expect.any(Number), maxMs: expect.any(Number), windowMs: 10_000 });
  });

  it('rejects an invalid identifiers document in words, with each fault\'s path', async () => {
    const res = await fetch(`${env.app.uiUrl}api/identifiers`, json('PUT', { devices: [{ name: 'RedMi 1S', imei: 'not-a-list', location: [{ lat: 91, lon: 0 }] }] }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: 'Phone "RedMi 1S": the IMEI list must be a list of text in quotes, e.g. ["…"], not "not-a-list"; Phone "RedMi 1S", location 1: latitude must be a number between -90 and 90, not the number 91',
      issues: [
        { message: 'Phone "RedMi 1S": the IMEI list must be a list of text in quotes, e.g. ["…"], not "not-a-list"', path: ['devices', 0, 'imei'], at: 'devices[0].imei' },
        { message: 'Phone "RedMi 1S", location 1: latitude must be a number between -90 and 90, not the number 91', path: ['devices', 0, 'location', 0, 'lat'], at: 'devices[0].location[0].lat' },
      ],
    });
  });

  it('applies saved identifiers to the next flow', async () => {
    const res = await fetch(`${env.app.uiUrl}api/identifiers`, json('PUT', { devices: [{ name: 'Lab phone', client: '127.0.0.1', serial_number: ['RM1S0012345'] }] }));
    expect(res.status).toBe(200);
    await proxied(`${env.upstream.url}/hello?sn=RM1S0012345`);
    const flow = await waitFor(async () =>
      ((await (await fetch(`${env.app.uiUrl}api/flows?flagged=1`)).json()) as FlowSummary[]).find((f) => f.url.includes('sn=RM1S0012345')),
    );
    expect(flow.device).toBe('Lab phone');
    expect(flow.findings[0]).toMatchObject({ type: 'serial_number', where: 'url', path: 'sn', device: 'Lab phone' });
  });

  it('renames a device', async () => {
    const res = await fetch(`${env.app.uiUrl}api/devices/127.0.0.1`, json('PUT', { name: 'Bench RedMi' }));
    expect(res.status).toBe(200);
    const devices = (await (await fetch(`${env.app.uiUrl}api/devices`)).json()) as DeviceInfo[];
    expect(devices.find((d) => d.client === '127.0.0.1')).toMatchObject({ name: 'Bench RedMi' });
    expect(devices[0].flows).toBeGreaterThanOrEqual(2);
  });

  it('says when every canary number is taken, and adds none', async () => {
    const canaries = () => fetch(`${env.app.uiUrl}api/canaries.vcf`, json('POST', { count: 500 }));
    const contactsHeld = async () => ((await (await fetch(`${env.app.uiUrl}api/identifiers`)).json()) as Identifiers).devices.flatMap((d) => d.contacts).length;
    // The 555-01xx lines of ten area codes: 1,000 numbers in all.
    expect((await canaries()).status).toBe(200);
    expect((await canaries()).status).toBe(200);
    const before = await contactsHeld();
    const res = await canaries();
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: string }).error).toMatch(/unused canary numbers/);
    expect(await contactsHeld()).toBe(before);
  });

  it('refuses mutations that are not JSON', async () => {
    const res = await fetch(`${env.app.uiUrl}api/devices/127.0.0.1`, asDashboard(env.app, { method: 'PUT', body: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }));
    expect(res.status).toBe(415);
  });
});
