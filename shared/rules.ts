// The rules file (CONTRACT.md): what to do with a request carrying identifiers. One zod schema serves the CLI
// (file on disk), the API and the dashboard editor, so all three reject the same input.
import { z } from 'zod';
import { describeIssues, type ParseResult } from './identifiers';
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
}).refine((r) => r.answer === undefined || r.action === 'block', { message: 'only a block rule has an answer', path: ['answer'] });

export const rulesSchema = z.object({ rules: z.array(ruleSchema).default([]) }).strict();

export type Rule = z.infer<typeof ruleSchema>;
export type Rules = z.infer<typeof rulesSchema>;

export const EMPTY_RULES: Rules = { rules: [] };

export function parseRules(input: unknown): ParseResult<Rules> {
  const result = rulesSchema.safeParse(input);
  return result.success ? { ok: true, value: result.data } : { ok: false, error: describeIssues(result.error) };
}
