import { describe, expect, it } from 'vitest';
import { createDetector } from '../../proxy/detect';
import { EMPTY_IDENTIFIERS } from '../../shared/identifiers';

const detector = createDetector(EMPTY_IDENTIFIERS);
const scan = async (body: unknown) =>
  (await detector.scanRequest({ url: 'https://a.example.com/c', headers: {}, body: Buffer.from(JSON.stringify(body)) })).findings.map(
    (f) => `${f.type}=${f.value}@${f.path}`,
  );

describe('pattern detectors', () => {
  it('flag checksummed and telling-keyed identifiers', async () => {
    expect(
      await scan({
        d: '356938035643809',
        sim: { imsi: '310260000000000', iccid: '8944500102198304826' },
        wifi: { bssid: '00:1A:2B:3C:4D:5E' },
        user: 'Bob.Smith@Gmail.com',
        android_id: '1a2b3c4d5e6f7a8b',
        idfa: '6D92078A-8246-4BA4-AE5B-76104861E7DC',
        profile: { mobile: '+44 20 7946 0958' },
        meid: 'A0000012345678',
      }),
    ).toEqual([
      'imei=356938035643809@$.d',
      'imsi=310260000000000@$.sim.imsi',
      'iccid=8944500102198304826@$.sim.iccid',
      'wifi=00:1a:2b:3c:4d:5e@$.wifi.bssid',
      'email=bob.smith@gmail.com@$.user',
      'android_id=1a2b3c4d5e6f7a8b@$.android_id',
      'advertising_id=6d92078a-8246-4ba4-ae5b-76104861e7dc@$.idfa',
      'phone_number=+442079460958@$.profile.mobile',
      'meid=A0000012345678@$.meid',
    ]);
  });

  it('pairs coordinates under telling keys', async () => {
    expect(await scan({ loc: { latitude: '31.2304', longitude: '121.4737' } })).toEqual(['location=31.2304,121.4737@$.loc']);
  });

  it('takes unlabelled numbers as phones only in lists of them', async () => {
    expect(await scan({ c: ['+8613912345678', '+8613812345678', '+8618612345678'] })).toHaveLength(3);
    expect(await scan({ c: ['+8613912345678'], note: '+8613812345678' })).toEqual([]);
  });

  it("reads a network-prefixed 15-digit number as an IMSI, but not under a key naming the app's user id", async () => {
    const number = '310410709407583'; // AT&T's MCC and MNC, no IMEI check digit
    expect(await scan({ v: number, sub: { imsi: number } })).toEqual([`imsi=${number}@$.v`, `imsi=${number}@$.sub.imsi`]);
    expect(await scan({ uid: number, account: { userId: number, member_id: number } })).toEqual([]);
  });

  it('stays quiet on timestamps, order numbers, Luhn-invalid numbers, random IDs and hashes', async () => {
    expect(
      await scan({
        ts: 170000000000000,
        created_at: '202311240001234',
        order_id: '356938035643809',
        id: '356938035643808',
        n: '123456789012345',
        request_id: 'f47ac10b-58cc-4372-a567-0e02b2c3d479',
        trace: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
        hash: 'd41d8cd98f00b204e9800998ecf8427e',
        version: '10.0.0.1',
        icon: 'icon@2x.png',
        uuid: '00000000-0000-0000-0000-000000000000',
        session: '1a2b3c4d5e6f7a8b',
        price: '12.34567',
        time: '12:34:56',
      }),
    ).toEqual([]);
  });
});

describe('SDK quirks', () => {
  it('reads value prefixes as keys: ifa:, imei:, mac:', async () => {
    // 00 is no reporting body: only a telling key (here the prefix) makes it an IMEI
    expect(await scan({ a: 'ifa:6D92078A-8246-4BA4-AE5B-76104861E7DC', b: 'imei:006938035643803', c: 'mac:00:1A:2B:3C:4D:5E', d: 'x:006938035643803' })).toEqual([
      'advertising_id=6d92078a-8246-4ba4-ae5b-76104861e7dc@$.a',
      'imei=006938035643803@$.b',
      'mac_address=00:1a:2b:3c:4d:5e@$.c',
    ]);
  });

  it('takes a generic key’s meaning from its parent: phoneNumbers[].value, emails[].value', async () => {
    expect(
      await scan({ phoneNumbers: [{ type: 'mobile', value: '+44 20 7946 0958' }], emails: [{ value: 'bob@gmail.com' }], items: [{ value: '+44 20 7946 0959' }] }),
    ).toEqual(['phone_number=+442079460958@$.phoneNumbers[0].value', 'email=bob@gmail.com@$.emails[0].value']);
  });

  it('knows vendor keys from TrackHAR’s adapters', async () => {
    expect(await scan({ advertisingTrackingId: '6d92078a-8246-4ba4-ae5b-76104861e7dc', aifa: '7d92078a-8246-4ba4-ae5b-76104861e7dc' })).toEqual([
      'advertising_id=6d92078a-8246-4ba4-ae5b-76104861e7dc@$.advertisingTrackingId',
      'advertising_id=7d92078a-8246-4ba4-ae5b-76104861e7dc@$.aifa',
    ]);
  });

  it('does not read a cell tower id as a phone number', async () => {
    expect(await scan({ cell_id: '2079460958', cellId: '+442079460958', cell: { lac: '20794', cid: '2079460958' } })).toEqual([]);
  });
});

describe('Wi-Fi and installed apps', () => {
  const aps = ['00:1a:2b:3c:4d:5e', '00:1a:2b:3c:4d:5f', '10:1a:2b:3c:4d:60'];
  it('a BSSID under Wi-Fi keys is wifi, the phone’s own Wi-Fi MAC stays a MAC; 3 access points tag a scan', async () => {
    const r = await detector.scanRequest({
      url: 'https://lbs.example.cn/loc',
      headers: {},
      body: Buffer.from(JSON.stringify({ wifi_mac: 'a0:86:c6:12:34:56', wifiList: aps.map((mac, i) => ({ ssid: `net${i}`, mac, rssi: -60 })) })),
    });
    expect(r.findings.map((f) => `${f.type}=${f.value}@${f.path}`)).toEqual([
      'mac_address=a0:86:c6:12:34:56@$.wifi_mac',
      ...aps.map((mac, i) => `wifi=${mac}@$.wifiList[${i}].mac`),
    ]);
    expect(r.tags).toEqual(['wifi-scan']);
    const two = await detector.scanRequest({ url: 'https://x.example/a', headers: {}, body: Buffer.from(JSON.stringify({ bssids: aps.slice(0, 2) })) });
    expect(two.tags).toEqual([]);
  });

  it('5 package names in one request are an installed-apps list, with their count', async () => {
    const apps = ['com.whatsapp', 'com.tencent.mm', 'org.telegram.messenger', 'cn.wps.moffice_eng', 'in.amazon.mShop.android.shopping'];
    const r = await detector.scanRequest({ url: 'https://x.example/apps', headers: {}, body: Buffer.from(JSON.stringify({ apps: apps.map((pkg) => ({ pkg, v: 3 })) })) });
    expect(r.findings).toEqual([{ type: 'installed_apps', value: apps.join(','), where: 'body', path: '$.apps', encoding: 'plain', confidence: 'pattern', count: 5 }]);
    const flat = await scan({ list: apps.join(',') });
    expect(flat).toEqual([`installed_apps=${apps.join(',')}@$.list`]);
  });

  it('but not four, host names, files, classes or a stack trace', async () => {
    expect(await scan({ apps: ['com.whatsapp', 'com.tencent.mm', 'org.telegram.messenger', 'cn.wps.moffice_eng'] })).toEqual([]);
    expect(await scan({ hosts: ['cn.bing.com', 'de.ioam.de', 'in.appcenter.ms', 'uk.example.co', 'www.google.com', 'com.example.png'] })).toEqual([]);
    const trace = 'java.lang.IllegalStateException\n at com.example.shop.ui.CartFragment.onResume(CartFragment.java:42)\n at com.example.shop.MainActivity.onCreate(MainActivity.java:10)\n at com.google.android.gms.Foo.bar(Foo.java:1)\n at org.chromium.Base.run(Base.java:3)\n at com.android.Internal.loop(Internal.java:9)';
    expect(await scan({ crash: trace, classes: ['com.google.gson.Gson', 'com.squareup.okhttp3.OkHttpClient', 'com.example.AdActivity', 'org.json.JSONObject', 'com.facebook.FacebookSdk'] })).toEqual([]);
  });
});
