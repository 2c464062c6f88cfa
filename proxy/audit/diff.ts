// What changed between two capture sessions: the one computation behind `leakscope diff`, GET /api/diff, the
// dashboard's Diff view and the report's comparison.
import type { DestinationUse, DiffItem, DiffResult, LeakGroup, SessionLeaks } from '../../shared/audit';
import type { FlowStore } from '../store/flow-store';
import type { SessionRef } from '../store/session-log';

const keyOf = (g: LeakGroup) => [g.device, g.type, g.destination, g.encoding].join('\0');

function item(a: LeakGroup | undefined, b: LeakGroup | undefined): DiffItem {
  const g = (a ?? b)!;
  return {
    device: g.device,
    type: g.type,
    destination: g.destination,
    encoding: g.encoding,
    countA: a?.count ?? 0,
    countB: b?.count ?? 0,
    firstSeenA: a?.firstSeen ?? null,
    lastSeenA: a?.lastSeen ?? null,
    firstSeenB: b?.firstSeen ?? null,
    lastSeenB: b?.lastSeen ?? null,
  };
}

function byKey(groups: LeakGroup[]): Map<string, LeakGroup> {
  return new Map(groups.map((g) => [keyOf(g), g]));
}

function missingFrom(from: DestinationUse[], other: DestinationUse[]): DestinationUse[] {
  const there = new Set(other.map((d) => d.destination));
  return from.filter((d) => !there.has(d.destination));
}

/** Compares what left in session A with what left in session B. */
export function diffLeaks(names: { a: string; b: string; device?: string }, a: SessionLeaks, b: SessionLeaks): DiffResult {
  const inA = byKey(a.groups);
  const inB = byKey(b.groups);
  const gained: DiffItem[] = [];
  const lost: DiffItem[] = [];
  const kept: DiffItem[] = [];
  for (const [key, g] of inA) (inB.has(key) ? kept : lost).push(item(g, inB.get(key)));
  for (const [key, g] of inB) if (!inA.has(key)) gained.push(item(undefined, g));
  const countriesA = new Set(a.countries);
  const countriesB = new Set(b.countries);
  return {
    a: names.a,
    b: names.b,
    ...(names.device ? { device: names.device } : {}),
    gained,
    lost,
    kept,
    destinations: { new: missingFrom(b.destinations, a.destinations), gone: missingFrom(a.destinations, b.destinations) },
    countries: { gained: b.countries.filter((c) => !countriesA.has(c)), lost: a.countries.filter((c) => !countriesB.has(c)) },
  };
}

export function diffOf(store: FlowStore, a: SessionRef, b: SessionRef, device?: string): DiffResult {
  return diffLeaks({ a: a.name, b: b.name, device }, store.leaks({ session: a.id, device }), store.leaks({ session: b.id, device }));
}

/** The diff of two stored sessions, named or numbered as `SessionLog.require` takes them. */
export function diffSessions(store: FlowStore, refA: string, refB: string, device?: string): DiffResult {
  return diffOf(store, store.sessions.require(refA), store.sessions.require(refB), device);
}
