// Debian's chromium driven by playwright-core; never a downloaded browser.
export { CHROMIUM_ARGS, launchChromium } from '../../proxy/util/chromium';
