// The filter language (CONTRACT.md "Filter expressions"): mitmweb's operators and leakscope's own, combined with
// `!`, `&`, `|` and parentheses; terms side by side are ANDed, as in mitmproxy. One parser for the server, the CLI
// and the dashboard; the store compiles the tree to SQL (proxy/filter/sql.ts), `scan` evaluates it over flows in
// memory (proxy/filter/match.ts) with the same meaning. Every argument matches case-insensitively.
import { IDENTIFIER_TYPES } from './types';

/** Operators, their argument and what they test: the dashboard's autocomplete lists these. */
export const FILTER_OPERATORS = {
  u: { arg: 'text', help: 'URL contains' },
  h: { arg: 'text', help: 'a request or response header contains' },
  b: { arg: 'text', help: 'the request or response body contains' },
  bq: { arg: 'text', help: 'the request body contains' },
  bs: { arg: 'text', help: 'the response body contains' },
  d: { arg: 'text', help: 'host (domain) contains' },
  m: { arg: 'text', help: 'method is' },
  c: { arg: 'number', help: 'status code is' },
  t: { arg: 'type', help: 'an identifier of this type was found' },
  enc: { arg: 'text', help: 'a finding was encoded so (md5, sha1+hex, base64, gzip…)' },
  conf: { arg: 'confidence', help: 'a finding has this confidence (known, pattern, tracker)' },
  cc: { arg: 'text', help: 'destination country is (two letters, e.g. CN)' },
  org: { arg: 'text', help: 'destination owner contains' },
  dev: { arg: 'text', help: 'device name or client address contains' },
  session: { arg: 'text', help: 'capture session (name or id) is' },
  marked: { arg: 'none', help: 'the flow is marked' },
} as const;

export type FilterOperator = keyof typeof FILTER_OPERATORS;

export type FilterExpr =
  | { kind: 'op'; op: FilterOperator; arg: string }
  | { kind: 'text'; text: string }
  | { kind: 'not'; expr: FilterExpr }
  | { kind: 'and' | 'or'; left: FilterExpr; right: FilterExpr };

/** A bad expression; `position` is 1-based, the character where parsing failed. */
export class FilterError extends Error {
  constructor(
    readonly reason: string,
    readonly position: number,
  ) {
    super(`bad filter at position ${position}: ${reason}`);
  }
}

const CONFIDENCES = ['known', 'pattern', 'tracker'];

interface Token {
  kind: '!' | '&' | '|' | '(' | ')' | 'op' | 'word' | 'end';
  text: string;
  /** 0-based offset in the expression */
  at: number;
}

function readWord(src: string, at: number): { text: string; end: number } {
  if (src[at] === '"' || src[at] === "'") {
    const quote = src[at];
    let text = '';
    let i = at + 1;
    for (; i < src.length && src[i] !== quote; i++) {
      if (src[i] === '\\' && i + 1 < src.length) i++;
      text += src[i];
    }
    if (i >= src.length) throw new FilterError(`unclosed ${quote}`, at + 1);
    return { text, end: i + 1 };
  }
  let i = at;
  while (i < src.length && !/[\s()&|!]/.test(src[i])) i++;
  return { text: src.slice(at, i), end: i };
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
    } else if ('!&|()'.includes(c)) {
      tokens.push({ kind: c as Token['kind'], text: c, at: i });
      i++;
    } else if (c === '~') {
      const m = /^~([a-z]*)/i.exec(src.slice(i))!;
      tokens.push({ kind: 'op', text: m[1].toLowerCase(), at: i });
      i += m[0].length;
    } else {
      const w = readWord(src, i);
      tokens.push({ kind: 'word', text: w.text, at: i });
      i = w.end;
    }
  }
  tokens.push({ kind: 'end', text: '', at: src.length });
  return tokens;
}

function checkArg(op: FilterOperator, arg: string, at: number): string {
  const kind = FILTER_OPERATORS[op].arg;
  if (kind === 'number' && !/^\d{1,3}$/.test(arg)) throw new FilterError(`~${op} needs a status code, not "${arg}"`, at + 1);
  if (kind === 'type' && !(IDENTIFIER_TYPES as readonly string[]).includes(arg.toLowerCase()))
    throw new FilterError(`~${op}: unknown identifier type "${arg}" (one of ${IDENTIFIER_TYPES.join(', ')})`, at + 1);
  if (kind === 'confidence' && !CONFIDENCES.includes(arg.toLowerCase()))
    throw new FilterError(`~${op}: unknown confidence "${arg}" (one of ${CONFIDENCES.join(', ')})`, at + 1);
  return arg;
}

/** Recursive descent: or := and ('|' and)*; and := not (('&')? not)*; not := '!' not | atom. */
class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i];
  }

  private next(): Token {
    return this.tokens[this.i++];
  }

  parse(): FilterExpr {
    const expr = this.or();
    const t = this.peek();
    if (t.kind !== 'end') throw new FilterError(t.kind === ')' ? 'a ")" without its "("' : `unexpected "${t.text}"`, t.at + 1);
    return expr;
  }

  private or(): FilterExpr {
    let left = this.and();
    while (this.peek().kind === '|') {
      this.next();
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): FilterExpr {
    let left = this.not();
    for (;;) {
      const t = this.peek();
      if (t.kind === '&') this.next();
      else if (!['!', '(', 'op', 'word'].includes(t.kind)) return left;
      left = { kind: 'and', left, right: this.not() };
    }
  }

  private not(): FilterExpr {
    if (this.peek().kind === '!') {
      this.next();
      return { kind: 'not', expr: this.not() };
    }
    return this.atom();
  }

  private atom(): FilterExpr {
    const t = this.next();
    if (t.kind === '(') {
      const expr = this.or();
      const close = this.next();
      if (close.kind !== ')') throw new FilterError(`"(" at position ${t.at + 1} is not closed`, close.at + 1);
      return expr;
    }
    if (t.kind === 'word') return { kind: 'text', text: t.text };
    if (t.kind === 'op') {
      if (!(t.text in FILTER_OPERATORS)) throw new FilterError(`unknown operator "~${t.text}"`, t.at + 1);
      const op = t.text as FilterOperator;
      if (FILTER_OPERATORS[op].arg === 'none') return { kind: 'op', op, arg: '' };
      const arg = this.next();
      if (arg.kind !== 'word') throw new FilterError(`~${op} needs an argument`, arg.at + 1);
      return { kind: 'op', op, arg: checkArg(op, arg.text, arg.at) };
    }
    if (t.kind === 'end') throw new FilterError('the expression ends where a term should follow', t.at + 1);
    throw new FilterError(`unexpected "${t.text}"`, t.at + 1);
  }
}

/** Parses a filter expression; throws FilterError naming the position. */
export function parseFilter(src: string): FilterExpr {
  if (src.trim() === '') throw new FilterError('empty expression', 1);
  return new Parser(tokenize(src)).parse();
}

/** The operators that start with what is typed after a `~` at the end of `src` (the dashboard's autocomplete). */
export function operatorCompletions(src: string): { op: FilterOperator; help: string }[] {
  const m = /~([a-z]*)$/i.exec(src);
  if (!m) return [];
  const typed = m[1].toLowerCase();
  return (Object.keys(FILTER_OPERATORS) as FilterOperator[])
    .filter((op) => op.startsWith(typed))
    .map((op) => ({ op, help: FILTER_OPERATORS[op].help }));
}
