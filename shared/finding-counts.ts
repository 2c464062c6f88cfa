// How many of each identifier type a flow carries, as its badges say it.
import type { Finding, IdentifierType } from './types';

/** What one finding counts as: a contact by who it is (one person's numbers and e-mails are one), else itself. */
function unitOf(f: Finding, index: number): string {
  return f.type === 'contact' ? `c\0${f.device ?? ''}\0${f.contact ?? f.value}` : `f\0${index}`;
}

/**
 * The types of `findings` in the order first found, each with its count: occurrences, except contacts, which
 * count people. A finding stored before findings named their contact counts by its value.
 */
export function typeCounts(findings: readonly Finding[]): [IdentifierType, number][] {
  const units = new Map<IdentifierType, Set<string>>();
  findings.forEach((f, i) => {
    const set = units.get(f.type) ?? new Set<string>();
    set.add(unitOf(f, i));
    units.set(f.type, set);
  });
  return [...units].map(([type, set]) => [type, set.size]);
}
