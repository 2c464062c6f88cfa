// Who is behind a registrable domain: a small curated table of the tracker, analytics, push and ad vendors
// that mobile apps talk to most, for the matrix and the flow detail. Curated here because the maintained
// lists in the npm registry are licensed for non-commercial use only (Ghostery's trackerdb is CC BY-NC-SA),
// which this MIT project cannot ship. Unlisted domains simply have no organisation.

const ORGANISATIONS: Record<string, readonly string[]> = {
  Google: [
    'google.com', 'googleapis.com', 'gstatic.com', 'doubleclick.net', 'google-analytics.com', 'googletagmanager.com',
    'googlesyndication.com', 'googleadservices.com', 'app-measurement.com', 'crashlytics.com', 'firebaseio.com',
    'firebase.com', 'admob.com', 'youtube.com',
  ],
  Meta: ['facebook.com', 'facebook.net', 'fbcdn.net', 'instagram.com', 'whatsapp.com', 'whatsapp.net'],
  Apple: ['apple.com', 'icloud.com', 'mzstatic.com'],
  Microsoft: ['microsoft.com', 'bing.com', 'live.com', 'msn.com', 'appcenter.ms', 'clarity.ms'],
  Amazon: ['amazon.com', 'amazonaws.com', 'amazon-adsystem.com'],
  'Alibaba Group': ['alibaba.com', 'aliyun.com', 'alicdn.com', 'taobao.com', 'alipay.com', 'mmstat.com', 'umeng.com', 'umengcloud.com'],
  Tencent: ['qq.com', 'tencent.com', 'gtimg.cn', 'wechat.com'],
  Baidu: ['baidu.com', 'bdstatic.com', 'bdimg.com'],
  ByteDance: ['bytedance.com', 'pangle.io', 'tiktok.com', 'tiktokv.com', 'byteoversea.com', 'snssdk.com', 'toutiao.com'],
  Xiaomi: ['xiaomi.com', 'xiaomi.net', 'miui.com', 'mi.com'],
  Huawei: ['huawei.com', 'hicloud.com'],
  'Aurora Mobile (JPush)': ['jpush.cn', 'jiguang.cn'],
  'Getui': ['getui.com', 'igexin.com'],
  TalkingData: ['talkingdata.com'],
  'X Corp': ['twitter.com', 'twimg.com', 'ads-twitter.com', 'x.com'],
  Yandex: ['yandex.ru', 'yandex.net', 'yandex.com'],
  Snap: ['snapchat.com', 'sc-static.net'],
  Yahoo: ['flurry.com', 'yahoo.com'],
  'Unity Technologies': ['unity3d.com', 'unity.com', 'ironsrc.com', 'supersonicads.com'],
  AppLovin: ['applovin.com', 'applvn.com'],
  Liftoff: ['vungle.com', 'liftoff.io'],
  Chartboost: ['chartboost.com'],
  InMobi: ['inmobi.com'],
  Mintegral: ['mintegral.com', 'rayjump.com'],
  Criteo: ['criteo.com', 'criteo.net'],
  AppsFlyer: ['appsflyer.com', 'appsflyersdk.com'],
  Adjust: ['adjust.com', 'adjust.io'],
  Branch: ['branch.io', 'app.link'],
  Kochava: ['kochava.com'],
  Singular: ['singular.net'],
  Braze: ['braze.com', 'appboy.com'],
  OneSignal: ['onesignal.com'],
  Mixpanel: ['mixpanel.com'],
  Amplitude: ['amplitude.com'],
  'Twilio (Segment)': ['segment.io', 'segment.com'],
  Sentry: ['sentry.io'],
  'SmartBear (Bugsnag)': ['bugsnag.com'],
  'New Relic': ['newrelic.com', 'nr-data.net'],
};

const BY_DOMAIN = new Map(Object.entries(ORGANISATIONS).flatMap(([org, domains]) => domains.map((d) => [d, org] as const)));

/** The organisation behind a registrable domain (eTLD+1), when the table knows it. */
export function organisationOf(domain: string): string | undefined {
  return BY_DOMAIN.get(domain.toLowerCase());
}
