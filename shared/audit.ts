// Capture sessions, markers and the before/after diff, as the store, the API, the CLI and the dashboard see them.
import type { IdentifierType } from './types';

/** A timestamped note in a session: the stimulus log ("SIM inserted", "opened Contacts"). */
export interface Marker {
  id: number;
  session: number;
  time: number;
  text: string;
}

/** One capture session; GET /api/sessions lists them oldest first. */
export interface SessionInfo {
  id: number;
  name: string;
  started: number;
  /** absent while the session is open */
  ended?: number;
  /** the session new flows and markers go to */
  current: boolean;
  flows: number;
  flagged: number;
  firstFlow?: number;
  lastFlow?: number;
  markers: Marker[];
}

/**
 * What left in one session, grouped by device, identifier type, destination (registrable domain) and encoding:
 * `count` requests carried it, between `firstSeen` and `lastSeen`.
 */
export interface LeakGroup {
  device: string;
  type: IdentifierType;
  destination: string;
  encoding: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
  countries: string[];
  org?: string;
}

/** One destination (registrable domain) a session talked to. */
export interface DestinationUse {
  destination: string;
  flows: number;
  /** flows that carried an identifier */
  flagged: number;
}

/** Everything the diff needs of one session. */
export interface SessionLeaks {
  groups: LeakGroup[];
  destinations: DestinationUse[];
  /** countries that received an identifier */
  countries: string[];
}

/** One (device, type, destination, encoding) in the diff; the A or B side is null where it did not occur. */
export interface DiffItem {
  device: string;
  type: IdentifierType;
  destination: string;
  encoding: string;
  countA: number;
  countB: number;
  firstSeenA: number | null;
  lastSeenA: number | null;
  firstSeenB: number | null;
  lastSeenB: number | null;
}

/** `leakscope diff A B --json`, GET /api/diff?a=&b=. */
export interface DiffResult {
  a: string;
  b: string;
  device?: string;
  /** in B, not in A */
  gained: DiffItem[];
  /** in A, not in B */
  lost: DiffItem[];
  kept: DiffItem[];
  destinations: {
    /** destinations B talked to and A did not, whether or not identifiers went there */
    new: DestinationUse[];
    /** destinations A talked to and B did not */
    gone: DestinationUse[];
  };
  /** countries that received an identifier in B and not in A (gained), or in A and not in B (lost) */
  countries: { gained: string[]; lost: string[] };
}

/** POST /api/reports { session, against? }: the report bundle written into the data dir. */
export interface ReportWritten {
  /** the folder's name under DATA_DIR/reports; GET /api/reports/:id/:file serves its files */
  id: string;
  dir: string;
  files: string[];
  /** SHA-256 (hex) of evidence.har, as the report states it */
  harSha256: string;
}
