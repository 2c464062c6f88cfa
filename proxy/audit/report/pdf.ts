// report.pdf: the HTML report printed by headless Debian chromium, with scripts off (the page has none; this
// makes sure nothing captured could run even if escaping ever failed).
import { pathToFileURL } from 'node:url';
import { launchChromium } from '../../util/chromium';

const FOOTER = '<div style="font-size:7pt;width:100%;text-align:center;color:#666">leakscope evidence report · page <span class="pageNumber"></span> of <span class="totalPages"></span></div>';

export async function printPdf(htmlFile: string, pdfFile: string): Promise<void> {
  const browser = await launchChromium();
  try {
    const context = await browser.newContext({ javaScriptEnabled: false, offline: true });
    const page = await context.newPage();
    await page.goto(pathToFileURL(htmlFile).href, { waitUntil: 'load' });
    await page.pdf({ path: pdfFile, format: 'A4', printBackground: true, displayHeaderFooter: true, headerTemplate: '<span></span>', footerTemplate: FOOTER, margin: { top: '14mm', bottom: '16mm', left: '12mm', right: '12mm' } });
  } finally {
    await browser.close();
  }
}
