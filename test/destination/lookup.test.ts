// Destination lookup from geoip-country's shipped data and the curated organisation table: no network needed.
import { describe, expect, it } from 'vitest';
import { isForeign, parseHomeCountry } from '../../proxy/destination/foreign';
import { lookupDestination } from '../../proxy/destination/lookup';
import type { Finding } from '../../shared/types';

const imei: Finding = { type: 'imei', value: '865123456789012', where: 'url', path: 'imei', encoding: 'plain', confidence: 'known' };

describe('lookupDestination', () => {
  it.each([
    ['114.114.114.114', 'CN'],
    ['223.5.5.5', 'CN'],
    ['8.8.8.8', 'US'],
    ['193.99.144.80', 'DE'],
    ['81.2.69.142', 'GB'],
    ['::ffff:223.5.5.5', 'CN'],
  ])('places public address %s in %s', (ip, country) => {
    expect(lookupDestination('example.org', ip)).toMatchObject({ ip: ip.replace('::ffff:', ''), country, scope: 'public' });
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['192.168.1.20', 'private'],
    ['10.0.0.8', 'private'],
    ['172.20.1.1', 'private'],
    ['fd00::1', 'private'],
  ])('labels %s as %s, without a country', (ip, scope) => {
    const destination = lookupDestination('router.local', ip);
    expect(destination.scope).toBe(scope);
    expect(destination.country).toBeUndefined();
  });

  it('names the organisation behind the registrable domain', () => {
    expect(lookupDestination('alog.umeng.com', '223.5.5.5')).toMatchObject({ domain: 'umeng.com', org: 'Alibaba Group' });
    expect(lookupDestination('graph.facebook.com', undefined)).toMatchObject({ domain: 'facebook.com', org: 'Meta' });
    expect(lookupDestination('s.appsflyersdk.com', undefined).org).toBe('AppsFlyer');
  });

  it('leaves the organisation out for domains it does not know', () => {
    expect(lookupDestination('api.push-example.cn', '114.114.114.114')).toEqual({
      domain: 'push-example.cn',
      ip: '114.114.114.114',
      scope: 'public',
      country: 'CN',
    });
  });
});

describe('foreign flag', () => {
  const beijing = lookupDestination('api.push-example.cn', '114.114.114.114');

  it('flags identifiers leaving for a country other than home', () => {
    expect(isForeign(beijing, [imei], 'DE')).toBe(true);
  });

  it('does not flag home, an unset home, a flow without leaked identifiers, or an unplaced address', () => {
    expect(isForeign(beijing, [imei], 'CN')).toBe(false);
    expect(isForeign(beijing, [imei], undefined)).toBe(false);
    expect(isForeign(beijing, [], 'DE')).toBe(false);
    expect(isForeign(lookupDestination('localhost', '127.0.0.1'), [imei], 'DE')).toBe(false);
  });

  it('takes a two-letter home country in either case and rejects anything else', () => {
    expect(parseHomeCountry('de')).toBe('DE');
    expect(() => parseHomeCountry('Germany')).toThrow(/--home-country Germany: expected a two-letter country code/);
  });
});
