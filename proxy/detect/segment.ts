// What the decoding layer hands to the detectors: one decoded string and where it sat.
import type { Where } from '../../shared/types';

export interface Segment {
  text: string;
  where: Where;
  /** Query key, header name, cookie name, `$.a.b[0]` JSON path, form key, XML element path. */
  path: string;
  /** Encodings undone to reach `text`, innermost first (so joined with `+` it reads outermost last). */
  chain: string[];
  /** The nearest key name, for detectors that trust a value only under a telling key. */
  key: string;
  /** Path of the enclosing container: siblings (lat next to lon, numbers in one list) share it. */
  parent: string;
  /** The value is an element of a list (a JSON array). */
  inList: boolean;
  /**
   * The key of the object holding this value, for keys that say nothing alone: `value` in
   * `phoneNumbers[].value`. Empty where there is none.
   */
  parentKey: string;
}

export function encodingName(chain: readonly string[]): string {
  return chain.length === 0 ? 'plain' : chain.join('+');
}
