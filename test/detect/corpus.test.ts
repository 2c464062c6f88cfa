import { describe, expect, it } from 'vitest';
import { createDetector } from '../../proxy/detect';
import { loadCorpus, scoreCorpus, toInput } from './corpus-eval';

describe('labelled corpus', () => {
  it('is big enough and a third of it is look-alike negatives', () => {
    const { requests } = loadCorpus();
    expect(requests.length).toBeGreaterThanOrEqual(300);
    expect(requests.filter((r) => r.labels.length === 0).length).toBeGreaterThanOrEqual(requests.length / 3);
  });

  it('meets precision ≥ 0.95 and recall ≥ 0.9 for every type, precision ≥ 0.99 overall', async () => {
    const { scores, mistakes } = await scoreCorpus();
    console.table(
      scores.map((s) => ({ type: s.type, tp: s.truePositives, fp: s.falsePositives, fn: s.falseNegatives, precision: s.precision.toFixed(3), recall: s.recall.toFixed(3) })),
    );
    if (mistakes.length) console.log(mistakes.join('\n'));
    for (const s of scores) {
      expect(s.precision, `${s.type} precision`).toBeGreaterThanOrEqual(0.95);
      expect(s.recall, `${s.type} recall`).toBeGreaterThanOrEqual(0.9);
    }
    const tp = scores.reduce((n, s) => n + s.truePositives, 0);
    const fp = scores.reduce((n, s) => n + s.falsePositives, 0);
    expect(tp / (tp + fp), 'overall precision').toBeGreaterThanOrEqual(0.99);
  });

  it('tags Wi-Fi scans, and only those', async () => {
    const { requests, identifiers } = loadCorpus();
    const detector = createDetector(identifiers);
    for (const r of requests) {
      const { tags } = await detector.scanRequest(toInput(r));
      expect(tags.includes('wifi-scan'), `#${r.id} ${r.template}`).toBe(r.template === 'wifi-scan');
    }
  });

  it('tags contact uploads, and only those, as contact lists', async () => {
    const { requests, identifiers } = loadCorpus();
    const detector = createDetector(identifiers);
    for (const r of requests) {
      const { tags } = await detector.scanRequest(toInput(r));
      const upload = r.template === 'contact-upload' || (r.template === 'contact-vcard-multipart' && r.labels.some((l) => l.type === 'contact'));
      expect(tags.includes('contact-list'), `#${r.id} ${r.template}`).toBe(upload);
    }
  });
});
