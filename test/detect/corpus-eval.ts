// Scores the detector against the labelled corpus: per-type precision and recall.
import { readFileSync } from 'node:fs';
import { createDetector } from '../../proxy/detect';
import { parseIdentifiers } from '../../shared/identifiers';
import { IDENTIFIER_TYPES, type IdentifierType } from '../../shared/types';

export interface Label {
  type: IdentifierType;
  value: string;
  confidence: 'known' | 'pattern';
}
export interface CorpusRequest {
  id: number;
  template: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  /** the body as sent on the wire (Content-Encoding applied), base64 */
  body?: string;
  labels: Label[];
}

export interface TypeScore {
  type: IdentifierType;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  precision: number;
  recall: number;
}

export function loadCorpus(): { requests: CorpusRequest[]; identifiers: ReturnType<typeof corpusIdentifiers> } {
  const requests = JSON.parse(readFileSync(new URL('../fixtures/corpus.json', import.meta.url), 'utf8')) as CorpusRequest[];
  return { requests, identifiers: corpusIdentifiers() };
}

function corpusIdentifiers() {
  const parsed = parseIdentifiers(JSON.parse(readFileSync(new URL('../fixtures/corpus-identifiers.json', import.meta.url), 'utf8')));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

export const toInput = (r: CorpusRequest) => ({ method: r.method, url: r.url, headers: r.headers, body: r.body ? Buffer.from(r.body, 'base64') : undefined });

/** A request's identifiers count once each (type, value, confidence), wherever and however often they occur. */
export async function scoreCorpus(): Promise<{ scores: TypeScore[]; mistakes: string[] }> {
  const { requests, identifiers } = loadCorpus();
  const detector = createDetector(identifiers);
  const counts = new Map(IDENTIFIER_TYPES.map((t) => [t, { tp: 0, fp: 0, fn: 0 }]));
  const mistakes: string[] = [];
  for (const request of requests) {
    const { findings } = await detector.scanRequest(toInput(request));
    const found = new Set(findings.map((f) => `${f.type}|${f.value}|${f.confidence}`));
    const expected = new Set(request.labels.map((l) => `${l.type}|${l.value}|${l.confidence}`));
    for (const key of found) {
      const c = counts.get(key.split('|')[0] as IdentifierType)!;
      if (expected.has(key)) c.tp++;
      else {
        c.fp++;
        mistakes.push(`#${request.id} ${request.template}: unexpected ${key}`);
      }
    }
    for (const key of expected) {
      if (found.has(key)) continue;
      counts.get(key.split('|')[0] as IdentifierType)!.fn++;
      mistakes.push(`#${request.id} ${request.template}: missed ${key}`);
    }
  }
  const scores = [...counts].map(([type, { tp, fp, fn }]) => ({
    type,
    truePositives: tp,
    falsePositives: fp,
    falseNegatives: fn,
    precision: tp + fp === 0 ? 1 : tp / (tp + fp),
    recall: tp + fn === 0 ? 1 : tp / (tp + fn),
  }));
  return { scores, mistakes };
}
