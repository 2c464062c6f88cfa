// The rules in force: read from the rules file at start, replaced from the dashboard (validated, saved back),
// and how many flows each rule has touched since start. Counts follow a rule's content, not its position,
// so reordering the list keeps them.
import fs from 'node:fs';
import { EMPTY_RULES, parseRules, type Rule, type Rules } from '../../shared/rules';
import { readJsonFile, writeJsonFileAtomic } from '../config/json-file';

export function loadRulesFile(file: string): Rules {
  return readJsonFile(file, 'rules file', parseRules);
}

const ruleKey = (rule: Rule) => JSON.stringify(rule);

export class RulesHolder {
  private current: Rules;
  private readonly touchedByRule = new Map<string, number>();
  private readonly listeners: ((rules: Rules) => void)[] = [];
  private readonly touchListeners: ((rule: Rule) => void)[] = [];

  /** @param file the rules file; read when it exists, created on the first save; none on a dashboard node (in memory) */
  constructor(readonly file?: string) {
    this.current = file !== undefined && fs.existsSync(file) ? loadRulesFile(file) : EMPTY_RULES;
  }

  get(): Rules {
    return this.current;
  }

  /** Replaces the rules (already validated) and saves them; the next request is judged by them. */
  set(rules: Rules): void {
    if (this.file !== undefined) writeJsonFileAtomic(this.file, rules);
    this.current = rules;
    for (const fn of this.listeners) fn(rules);
  }

  /** Called after each replacement (a lab's shared store is written, config/shared-settings.ts). */
  onChange(fn: (rules: Rules) => void): void {
    this.listeners.push(fn);
  }

  /** Notes that `rule` decided something about one flow. */
  touched(rule: Rule): void {
    const key = ruleKey(rule);
    this.touchedByRule.set(key, (this.touchedByRule.get(key) ?? 0) + 1);
    for (const fn of this.touchListeners) fn(rule);
  }

  /** Called for each `touched` (a proxy worker's counts go to its primary, which the dashboard reads). */
  onTouched(fn: (rule: Rule) => void): void {
    this.touchListeners.push(fn);
  }

  /** Flows touched per rule, in the order of the rules in force. */
  touchedCounts(): number[] {
    return this.current.rules.map((rule) => this.touchedByRule.get(ruleKey(rule)) ?? 0);
  }
}
