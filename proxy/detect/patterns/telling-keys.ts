// Telling keys: the field names that say what a value is, per identifier family, each with where it was seen.
// A key matches when one of its words, or two or three adjacent words joined, is listed (`keyWords`):
// `google_advertising_id` matches through `advertisingid`. Review a new key against real traffic or SDK
// source before adding it: a key that is too broad costs precision everywhere (`cell` named cell towers too).
//
// Sources: TrackHAR's adapters (tweaselORG/TrackHAR, src/adapters, CC0: the field paths each adapter maps to a
// property, 123 adapters of 32 trackers, taken as facts), Android's and iOS's own API names, OpenRTB 2.x, and
// the SDK request formats in this project's corpus (scripts/gen-corpus.ts).

export interface KeyGroup {
  keys: string;
  source: string;
}

const keys = (groups: KeyGroup[]) => new Set(groups.flatMap((g) => g.keys.split(' ')));

export const IMEI_KEYS = keys([
  { keys: 'imei imei1 imei2 deviceimei', source: "Android TelephonyManager.getImei/getDeviceId; Chinese push and analytics SDKs (JPush, Umeng, Xiaomi push)" },
]);

export const MEID_KEYS = keys([{ keys: 'meid esn deviceid imei', source: 'Android TelephonyManager.getMeid; CDMA handsets report it where GSM ones report the IMEI' }]);

export const IMSI_KEYS = keys([{ keys: 'imsi subscriberid subscriber simsubscriberid', source: 'Android TelephonyManager.getSubscriberId' }]);

/**
 * Keys naming the app's own id for its user. An IMSI guessed from its digits alone (no telling key) is not
 * one under them: a 15-digit user id that opens with a network's MCC and MNC is still the app's number.
 */
export const ACCOUNT_ID_KEYS = keys([
  { keys: 'uid userid accountid memberid customerid openid unionid', source: 'Firebase Auth uid, WeChat openid/unionid, the userId/member_id of analytics SDKs (TrackHAR: user ids kept apart from device ids)' },
]);

export const ICCID_KEYS = keys([{ keys: 'iccid simserial simserialnumber icc simid', source: 'Android TelephonyManager.getSimSerialNumber' }]);

export const MAC_KEYS = keys([
  { keys: 'mac macaddress macaddr wifimac wlanmac ethmac hwaddr', source: 'Android WifiInfo.getMacAddress; TrackHAR: mac_address (macAddress)' },
  { keys: 'btmac bluetoothmac bluetoothaddress', source: 'Android BluetoothAdapter.getAddress' },
]);

/** The phone's own Wi-Fi interface, not an access point: these stay MAC addresses under Wi-Fi words. */
export const OWN_MAC_KEYS = keys([{ keys: 'wifimac wlanmac localmac devicemac', source: 'Umeng, JPush device info (the phone’s own Wi-Fi MAC)' }]);

export const WIFI_KEYS = keys([
  { keys: 'bssid bssids apmac routermac wifibssid', source: 'Android WifiInfo.getBSSID / ScanResult.BSSID; FTC v. InMobi (2016): BSSIDs sent to infer location' },
  { keys: 'wifi wifis wifilist wifiscan wifiinfo scanresult accesspoint aps nearbywifi wlanlist connectedwifi', source: 'Android WifiManager.getScanResults; Chinese location SDKs (AMap, Baidu) send nearby access points as lists' },
]);

/** Keys inside a Wi-Fi entry (`wifiList[].mac`) that hold the access point's MAC. */
export const WIFI_ENTRY_KEYS = keys([{ keys: 'mac macaddress bssid address addr id', source: 'Android ScanResult fields as SDKs serialise them' }]);

export const EMAIL_KEYS = keys([{ keys: 'email mail emailaddress', source: 'everywhere; TrackHAR: email (userId)' }]);

export const ANDROID_ID_KEYS = keys([
  { keys: 'androidid android ssaid deviceid did udid devid', source: 'Android Settings.Secure.ANDROID_ID; TrackHAR: android_id, deviceid, device_id (deviceId, developerScopedId)' },
  { keys: 'andi hardwareid', source: 'TrackHAR: andi (developerScopedId), hardware_id (deviceId)' },
]);

export const ADVERTISING_ID_KEYS = keys([
  { keys: 'adid gaid aaid idfa ifa oaid rdid advertisingid advertiserid adsid googleadid gpsadid advid adtrackingid', source: 'Google Play services AdvertisingIdClient, Apple ASIdentifierManager, Huawei OAID, OpenRTB device.ifa' },
  {
    keys: 'aifa advertisingtrackingid googleid',
    source: 'TrackHAR: aifa, advertisingTrackingId, google_id, userAdvertisingId, google_advertising_id, gps_adid, consent_ifa, adv_id (advertisingId)',
  },
]);

export const PHONE_KEYS = keys([
  {
    keys: 'phone phonenumber phoneno mobile mobileno mobilephone msisdn tel telephone cellphone line1number mdn callerid',
    source: 'Android TelephonyManager.getLine1Number; contact-upload APIs; vCard TEL',
  },
  // `cell` alone is gone: `cell_id`, `cellId`, `cell.lac` name a cell tower, not a phone (a false positive).
]);

export const LAT_KEYS = keys([{ keys: 'lat latitude', source: 'TrackHAR: lat, geo_latitude (latitude); OpenRTB device.geo.lat' }]);
export const LON_KEYS = keys([{ keys: 'lon lng long longitude', source: 'TrackHAR: lon, long, geo_longitude (longitude); OpenRTB device.geo.lon' }]);
export const PAIR_KEYS = keys([{ keys: 'location loc ll latlng latlon lnglat coords coordinates coordinate gps geo position pos', source: 'Google Maps ll=, AMap location=lng,lat' }]);

/** Keys that say nothing alone: the value's meaning comes from the key of the object around it. */
export const GENERIC_KEYS = keys([
  { keys: 'value val v number num no id address addr data text content item string str', source: 'Android ContactsContract rows, Google People API (phoneNumbers[].value, emailAddresses[].value)' },
]);

/** `ifa:38400000-…`, `imei:8651…`, `mac=a0:86:…`: a word before the value that says what it is. */
export const VALUE_PREFIXES = keys([
  { keys: 'ifa idfa gaid adid aaid oaid imei imsi iccid meid mac bssid androidid tel phone msisdn email', source: 'TrackHAR (ifa: prefix in an advertisingId value); ad SDKs tagging IDs by kind in one string field' },
]);
