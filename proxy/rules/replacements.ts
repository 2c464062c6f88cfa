// What to replace for each redacted finding: every form the detector knows the original by (its normal
// forms, each plain, URL-encoded, base64, hex and hashed), paired with the same form of its fake, so the
// fake lands in the same encoding chain and the request still parses.
import { createHash } from 'node:crypto';
import type { Finding } from '../../shared/types';
import { encodedForms } from '../detect/known/encoded-forms';
import { NORMAL_FORMS } from '../detect/known/normal-forms';
import { WINDOW } from '../detect/known/multi-matcher';
import { fakeFor } from './fakes';

export interface Replacement {
  from: string;
  to: string;
  /** the value as written, unencoded: it must not be cut out of a longer run of digits or hex */
  plain: boolean;
}

type FormType = keyof typeof NORMAL_FORMS;

/** The normal-form family a known value is written in (a contact is a phone number or an e-mail address). */
function formTypeOf(finding: Finding): FormType | undefined {
  if (finding.type === 'contact') return finding.value.includes('@') ? 'email' : 'phone_number';
  return finding.type in NORMAL_FORMS ? (finding.type as FormType) : undefined;
}

/** Pairs of (original, fake) as they may be written before any encoding, position by position. */
function normalPairs(finding: Finding, fake: string): [string, string][] {
  if (finding.type === 'location') {
    const fakes = fake.split(',');
    return finding.value.split(',').map((part, i) => [part, fakes[i]]);
  }
  const formType = finding.confidence === 'known' ? formTypeOf(finding) : undefined;
  if (!formType) return [[finding.value, fake]];
  const originals = NORMAL_FORMS[formType](finding.value);
  const fakes = NORMAL_FORMS[formType](fake);
  return originals.map((original, i): [string, string] => [original, fakes[i]]).filter(([, f]) => f !== undefined);
}

/**
 * encodedForms() gives base64 only as the prefix fixed by the value alone (the value may open a longer blob);
 * a value encoded on its own ends in padding bits of its own, so the whole encoding is replaced too.
 */
function wholeBase64Pairs(original: string, fake: string): Replacement[] {
  const digests = (s: string) => [Buffer.from(s), ...(['md5', 'sha1', 'sha256'] as const).map((a) => createHash(a).update(s).digest())];
  const fakeDigests = digests(fake);
  return digests(original).map((bytes, i) => ({ from: bytes.toString('base64'), to: fakeDigests[i].toString('base64'), plain: false }));
}

function encodedPairs(original: string, fake: string): Replacement[] {
  const fakeForms = encodedForms(fake);
  const out = encodedForms(original)
    .map((form, i) => ({ form, fakeForm: fakeForms[i] }))
    // Same position, same chain: the fake's form of the same kind (a fake with other URL-escapes would shift them).
    .filter(({ form, fakeForm }) => fakeForm && fakeForm.chain.join('+') === form.chain.join('+'))
    .map(({ form, fakeForm }) => ({ from: form.text, to: fakeForm.text, plain: form.chain.length === 0 }));
  return [...wholeBase64Pairs(original, fake), ...out];
}

/** Everything to replace for `findings`, the longest first so a form never replaces part of a longer one. */
export function replacementsFor(findings: readonly Finding[]): Replacement[] {
  const byFrom = new Map<string, Replacement>();
  for (const finding of findings) {
    const fake = fakeFor(finding.type, finding.value);
    for (const [original, fakeNormal] of normalPairs(finding, fake)) {
      if (original === fakeNormal) continue;
      for (const r of encodedPairs(original, fakeNormal)) {
        if (r.from.length >= WINDOW && r.from !== r.to && !byFrom.has(r.from)) byFrom.set(r.from, r);
      }
    }
  }
  return [...byFrom.values()].sort((a, b) => b.from.length - a.from.length);
}
