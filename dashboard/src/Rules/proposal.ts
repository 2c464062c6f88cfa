// "Make a rule from this finding": the flow detail proposes a rule, the Rules view picks it up as an unsaved row.
import type { Rule } from '../../../shared/rules';
import { navigate } from '../lib/route';

let pending: Rule | undefined;

export function proposeRule(rule: Rule): void {
  pending = rule;
  navigate({ view: 'rules' });
}

/** The proposed rule, if any (pure, so a component may read it in a state initializer). */
export function proposedRule(): Rule | undefined {
  return pending;
}

/** The Rules view has shown the proposal: the next visit starts from the saved rules alone. */
export function clearProposedRule(): void {
  pending = undefined;
}
