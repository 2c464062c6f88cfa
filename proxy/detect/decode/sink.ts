// Collects segments with a bound on the decoded text, so nested decoding of a hostile body stays cheap.
import type { Segment } from '../segment';

export type Place = Omit<Segment, 'text'>;

/** Shorter strings cannot hold any identifier form we look for. */
export const MIN_SEGMENT = 6;

export class SegmentSink {
  readonly segments: Segment[] = [];
  private budget: number;

  constructor(readonly byteLimit: number) {
    // Decoding multiplies text (base64 → plain → JSON leaves); allow a few passes over the cap.
    this.budget = byteLimit * 4;
  }

  get exhausted(): boolean {
    return this.budget <= 0;
  }

  emit(text: string, place: Place): void {
    if (text.length < MIN_SEGMENT || this.exhausted) return;
    this.budget -= text.length;
    this.segments.push({
      text,
      where: place.where,
      path: place.path,
      chain: place.chain,
      key: place.key,
      parent: place.parent,
      inList: place.inList,
      parentKey: place.parentKey,
    });
  }
}

/** The place one more encoding deeper: the layer just undone is inner to everything undone before. */
export function within(place: Place, encoding: string): Place {
  return { where: place.where, path: place.path, chain: [encoding, ...place.chain], key: place.key, parent: place.parent, inList: place.inList, parentKey: place.parentKey };
}

export function child(place: Place, path: string, key: string, inList = false, parent = place.path, parentKey = ''): Place {
  return { where: place.where, path, chain: place.chain, key, parent, inList, parentKey };
}
