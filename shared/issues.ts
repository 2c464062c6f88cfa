// Validation faults in words a tester reads without knowing the schema: which entry (by its name), which field,
// what is wrong and what is expected. One formatter for the CLI, the API and the dashboard, so a file refused
// anywhere is refused with the same sentence. Each document (identifiers, rules) says how it names its places.
import type { z } from 'zod';

/** One fault: the sentence, and where it sits for programs (`path` as zod gives it, `at` as `a[0].b`). */
export interface Issue {
  message: string;
  path: (string | number)[];
  at: string;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string; issues: Issue[] };

/**
 * A place in the document, in words: the entries that lead to it (`Phone "RedMi 1S"`, `location 1`), the
 * field itself (`latitude`), and what it must hold when that is more telling than its type.
 */
export interface Place {
  within: string[];
  field: string;
  expected?: string;
}

export type Describe = (path: (string | number)[], input: unknown) => Place;

type ZodIssue = z.core.$ZodIssue;

/** `devices[0].location[0].lat` */
export function pathText(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(the whole document)';
}

/** The value a path points at in what was given (undefined where it is missing). */
export function valueAt(input: unknown, path: (string | number)[]): unknown {
  let v = input;
  for (const p of path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[p] : undefined;
  return v;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'text in quotes',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list [ … ]',
  object: 'an object { … }',
};

/** What was given, as the tester would recognise it in their file. */
function given(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : `the number ${v}`;
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

const oneOf = (values: readonly unknown[]) => values.map((v) => String(v)).join(', ');

/** The sentence after the field's name: what is wrong, then what is expected. */
function fault(issue: ZodIssue, value: unknown, expected: string | undefined): string {
  const want = (fallback: string) => expected ?? fallback;
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return `is missing: it must be ${want(TYPE_WORDS[issue.expected] ?? issue.expected)}`;
      return `must be ${want(TYPE_WORDS[issue.expected] ?? issue.expected)}, not ${given(value)}`;
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return 'must not be empty';
      return `must be ${want(`at least ${issue.minimum}`)}, not ${given(value)}`;
    case 'too_big':
      return `must be ${want(`at most ${issue.maximum}`)}, not ${given(value)}`;
    case 'invalid_value':
      return `must be ${want(`one of ${oneOf(issue.values)}`)}, not ${given(value)}`;
    case 'invalid_format':
      return `must be ${want(issue.message)}, not ${given(value)}`;
    case 'unrecognized_keys':
      return `has ${issue.keys.length === 1 ? 'a field' : 'fields'} leakscope does not know: ${issue.keys.map((k) => JSON.stringify(k)).join(', ')} (a misspelling?)`;
    default:
      return issue.message;
  }
}

const capitalised = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export function describeIssues(error: z.ZodError, input: unknown, describe: Describe): Issue[] {
  return error.issues.map((issue) => {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const place = describe(path, input);
    const sentence = `${place.field} ${fault(issue, valueAt(input, path), place.expected)}`;
    const message = place.within.length ? `${place.within.join(', ')}: ${sentence}` : capitalised(sentence);
    return { message, path, at: pathText(path) };
  });
}

/** The issues as one line, each with its path for whoever edits the file by hand (CLI, logs). */
export function issuesLine(issues: Issue[]): string {
  return issues.map((i) => `${i.message} (at ${i.at})`).join('; ');
}

/** A schema's parse as a ParseResult, faults described in the document's own words. */
export function parseWith<T>(schema: z.ZodType<T>, input: unknown, describe: Describe): ParseResult<T> {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  const issues = describeIssues(result.error, input, describe);
  return { ok: false, error: issuesLine(issues), issues };
}
