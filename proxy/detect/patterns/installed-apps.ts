// Installed-app lists: SDKs that upload the package names of everything on the phone (a profile of its
// owner). One package name says nothing (every request names its own app); many in one request are a list.

/** Distinct package names in one request that make it an installed-apps list. */
export const INSTALLED_APPS_MIN = 5;

/**
 * Reverse-DNS names under the top-level domains apps are named under (`com.whatsapp`, `cn.wps.moffice_eng`,
 * `in.amazon.mShop.android.shopping`); not inside a longer dotted name, a URL, a path or an e-mail address,
 * and not a method call (`com.example.Foo.bar(`).
 */
const PACKAGE =
  /(?<![\w.$/@-])(?:com|org|net|cn|io|tv|de|jp|co|in|uk|fr|ru|kr|br|app|ch|nl|es|se|au|ca|info|biz|mobi|xyz|tw|hk|sg|vn|th|pl|tr|ua|eu|mx|ar|il|gr|pt|dk|fi|cz|hu|ro|me)\.[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*(?![\w.(/@-])/g;

/** Last labels that make it a host name (`cn.bing.com`) or a file (`com.example.png`), not a package. */
const NOT_LAST = new Set([
  ...'com org net cn io tv de jp co in uk fr ru kr br app ch nl es se au ca info biz mobi xyz tw hk sg vn th pl tr ua eu mx ar il gr pt dk fi cz hu ro me'.split(' '),
  ...'png jpg jpeg gif webp svg js css html htm json xml txt mp4 mp3 apk so dex jar zip gz'.split(' '),
]);

/**
 * `Gson`, `JSONObject`: a Java class, not a package. Packages are lower-case by convention; the few real
 * ones that end in a capitalised part (`com.eg.android.AlipayGphone`) are not counted.
 */
const CLASS_NAME = /^[A-Z].*[a-z]/;

/** `in.appcenter.ms`, `de.ioam.de`: a country subdomain and a country domain make a host name. */
const HOST_LIKE = /^[a-z]{2}\.[^.]+(?:\.[^.]+)*\.[a-z]{2}$/;

const NONE: readonly string[] = [];

/** The package names written in `text`; `letterDot`: it has a letter right before a dot (see `TextTraits`). */
export function packageNames(text: string, letterDot: boolean): readonly string[] {
  if (!letterDot) return NONE;
  const names: string[] = [];
  PACKAGE.lastIndex = 0;
  for (let m = PACKAGE.exec(text); m !== null; m = PACKAGE.exec(text)) {
    const last = m[0].slice(m[0].lastIndexOf('.') + 1);
    if (!NOT_LAST.has(last.toLowerCase()) && !CLASS_NAME.test(last) && !HOST_LIKE.test(m[0])) names.push(m[0]);
  }
  return names;
}
