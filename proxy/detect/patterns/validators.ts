// Checksums and number plans that tell a real identifier from a number that merely has the right length.

function luhnSum(digits: string, doubleEven: boolean): number {
  let sum = 0;
  for (let i = digits.length - 1, pos = 0; i >= 0; i--, pos++) {
    let d = digits.charCodeAt(i) - 48;
    if ((pos % 2 === 1) !== doubleEven) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum;
}

export function luhnValid(digits: string): boolean {
  return luhnSum(digits, false) % 10 === 0;
}

/** The digit that makes `body` + digit Luhn-valid. */
export function luhnCheckDigit(body: string): string {
  return String((10 - (luhnSum(body, true) % 10)) % 10);
}

/** Reporting Body Identifiers (first two IMEI digits) that GSMA has actually allocated to device makers. */
const IMEI_REPORTING_BODIES = new Set(['01', '10', '30', '33', '35', '44', '45', '49', '50', '51', '52', '53', '54', '86', '91', '98', '99']);

export function plausibleImei(digits: string): boolean {
  return digits.length === 15 && IMEI_REPORTING_BODIES.has(digits.slice(0, 2)) && luhnValid(digits) && !/^(\d)\1+$/.test(digits);
}

/** ITU-T E.212 mobile country codes in use. */
const MCC = new Set(
  (
    '202 204 206 208 212 213 214 216 218 219 220 221 222 226 228 230 231 232 234 235 238 240 242 244 246 247 248 250 ' +
    '255 257 259 260 262 266 268 270 272 274 276 278 280 282 283 284 286 288 289 290 292 293 294 295 297 302 308 ' +
    '310 311 312 313 314 315 316 330 332 334 338 340 342 344 346 348 350 352 354 356 358 360 362 363 364 365 366 ' +
    '368 370 372 374 376 400 401 402 404 405 406 410 412 413 414 415 416 417 418 419 420 421 422 424 425 426 427 ' +
    '428 429 430 431 432 434 436 437 438 440 441 450 452 454 455 456 457 460 461 466 467 470 472 502 505 510 514 ' +
    '515 520 525 528 530 536 537 539 540 541 542 543 544 545 546 547 548 549 550 551 552 553 554 555 602 603 604 ' +
    '605 606 607 608 609 610 611 612 613 614 615 616 617 618 619 620 621 622 623 624 625 626 627 628 629 630 631 ' +
    '632 633 634 635 636 637 638 639 640 641 642 643 645 646 647 648 649 650 651 652 653 654 655 657 658 659 702 ' +
    '704 706 708 710 712 714 716 722 724 730 732 734 736 738 740 742 744 746 748 750'
  ).split(' '),
);

/**
 * Home networks (MCC+MNC) of the largest operators. Without a telling key a 15-digit number is called an
 * IMSI only when it starts with one of these: a bare MCC match is too common among order numbers.
 */
const MAJOR_HOME_NETWORKS = [
  '46000', '46001', '46002', '46003', '46004', '46006', '46007', '46008', '46009', '46011', '46015', '46020',
  '310260', '310410', '311480', '310120', '312530', '302220', '302610', '302720', '334020',
  '23410', '23415', '23420', '23430', '26201', '26202', '26203', '20801', '20810', '20815', '20820', '22201',
  '22210', '21401', '21403', '21407', '25001', '25002', '25099', '40410', '40445', '40486', '405857', '40553',
  '44010', '44020', '44051', '45005', '45006', '45008', '46692', '46697', '45400', '45403', '50501', '50502',
  '51010', '51011', '52001', '52003', '52004', '52501', '50212', '50219', '72405', '72406', '72410', '72431',
];

export function validMcc(digits: string): boolean {
  return MCC.has(digits.slice(0, 3));
}

export function majorHomeNetwork(digits: string): boolean {
  return MAJOR_HOME_NETWORKS.some((prefix) => digits.startsWith(prefix));
}

/** 20231124…: order numbers and timestamps written as a calendar date. */
export function startsWithDate(digits: string): boolean {
  const m = /^(19|20)(\d\d)(\d\d)(\d\d)/.exec(digits);
  if (!m) return false;
  const month = Number(m[3]);
  const day = Number(m[4]);
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/** Hex strings that are placeholders, not identifiers: all zeros, one repeated digit. */
export function placeholderHex(hex: string): boolean {
  const h = hex.replace(/[^0-9a-fA-F]/g, '');
  return /^(.)\1*$/.test(h);
}

/** Both a letter and a digit: a real random hex ID nearly always has both. */
export function mixedHex(hex: string): boolean {
  return /[a-fA-F]/.test(hex) && /\d/.test(hex);
}
