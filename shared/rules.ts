// The rules file (CONTRACT.md): what to do with a request carrying identifiers. One zod schema serves the CLI
// (file on disk), the API and the dashboard editor, so all three reject the same input.
import { z } from 'zod';
import { parseWith, type ParseResult, type Place } from './issues';
import { IDENTIFIER_TYPES } from './types';

/** `api.example.cn` or `*.example.cn` (the domain and every host under it). */
const HOST_PATTERN = /^(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$|^[0-9a-f:.]+$/i;

export const RULE_ACTIONS = ['block', 'redact', 'allow'] as const;
export type RuleAction = (typeof RULE_ACTIONS)[number];

/**
 * What a `block` answers the phone: `forbidden` (the default) a 403 saying why; `no-content` a 204; `empty` a 200
 * with an empty body of the type the app asked for (Accept, else its request's Content-Type), so it keeps running.
 */
export const BLOCK_ANSWERS = ['forbidden', 'no-content', 'empty'] as const;
export type BlockAnswer = (typeof BLOCK_ANSWERS)[number];

export const ruleSchema = z.object({
  match: z
    .object({
      type: z.enum(IDENTIFIER_TYPES).optional(),
      host: z.string().trim().regex(HOST_PATTERN, 'expected a host name, optionally starting with "*."').optional(),
      /** a device name or a client address */
      device: z.string().trim().min(1, 'must not be empty').optional(),
    })
    .strict()
    .default({}),
  action: z.enum(RULE_ACTIONS),
  answer: z.enum(BLOCK_ANSWERS).optional(),
}).refine((r) => r.answer === undefined || r.action === 'block', { message: 'is only for a block rule', path: ['answer'] });

export const rulesSchema = z.object({ rules: z.array(ruleSchema).default([]) }).strict();

export type Rule = z.infer<typeof ruleSchema>;
export type Rules = z.infer<typeof rulesSchema>;

export const EMPTY_RULES: Rules = { rules: [] };

const RULE_FIELDS: Record<string, Omit<Place, 'within'>> = {
  match: { field: 'the match', expected: 'an object { "type", "host", "device" } (each optional)' },
  type: { field: 'the identifier type', expected: `one of ${IDENTIFIER_TYPES.join(', ')}` },
  host: { field: 'the host', expected: 'a host name such as api.example.cn, or *.example.cn for it and every host under it' },
  device: { field: 'the device', expected: 'a device name or client address' },
  action: { field: 'the action', expected: `one of ${RULE_ACTIONS.join(', ')}` },
  answer: { field: 'the answer', expected: `one of ${BLOCK_ANSWERS.join(', ')}` },
};

/** Where a path of the rules file points, in words (shared/issues.ts): `Rule 2`, `the host`. */
function describeRulesPath(path: (string | number)[]): Place {
  if (path.length === 0) return { within: [], field: 'the rules file', expected: 'an object { "rules": [ … ] }' };
  if (path[0] !== 'rules') return { within: [], field: `the field ${JSON.stringify(path[0])}` };
  if (path.length === 1) return { within: [], field: '"rules"', expected: 'a list [ … ] of rules' };
  const rule = `Rule ${Number(path[1]) + 1}`;
  if (path.length === 2) return { within: [], field: rule, expected: 'an object { "match": { … }, "action": … }' };
  const known = RULE_FIELDS[String(path[path.length - 1])];
  return { within: [rule], ...(known ?? { field: `the field ${JSON.stringify(path[path.length - 1])}` }) };
}

export function parseRules(input: unknown): ParseResult<Rules> {
  return parseWith(rulesSchema, input, describeRulesPath);
}
