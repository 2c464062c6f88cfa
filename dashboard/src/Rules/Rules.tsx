import { useEffect, useState } from 'react';
import type { RulesResponse } from '../../../shared/api';
import { BLOCK_ANSWERS, parseRules, RULE_ACTIONS, ruleSchema, type BlockAnswer, type Rule, type RuleAction } from '../../../shared/rules';
import { IDENTIFIER_TYPES } from '../../../shared/types';
import { typeLabel } from '../lib/labels';
import { ErrorBox, refusalOf } from '../lib/ErrorBox';
import { api } from '../store/api';
import { useUnsaved } from '../lib/unsaved';
import { useApi, useStoreValue } from '../store/useStore';
import { clearProposedRule, proposedRule } from './proposal';
import './rules.css';

/** The editor's model: every match field as text, empty meaning "any". */
interface DraftRule {
  type: string;
  host: string;
  device: string;
  action: RuleAction;
  /** block only; '' the default 403 */
  answer: BlockAnswer | '';
}

const toDraft = (r: Rule): DraftRule => ({ type: r.match.type ?? '', host: r.match.host ?? '', device: r.match.device ?? '', action: r.action, answer: r.answer ?? '' });

function fromDraft(d: DraftRule): unknown {
  const match: Record<string, string> = {};
  if (d.type) match.type = d.type;
  if (d.host.trim()) match.host = d.host.trim();
  if (d.device.trim()) match.device = d.device.trim();
  return { match, action: d.action, ...(d.action === 'block' && d.answer ? { answer: d.answer } : {}) };
}

/** Counts follow a rule's content on the server, so a moved rule keeps its count; an unsaved one has none. */
function touchedOf(d: DraftRule, counts: Map<string, number>): number | undefined {
  const parsed = ruleSchema.safeParse(fromDraft(d));
  return parsed.success ? counts.get(JSON.stringify(parsed.data)) : undefined;
}

const ANSWER_LABELS: Record<BlockAnswer, string> = {
  forbidden: 'answer 403',
  'no-content': 'answer 204 (stub)',
  empty: 'answer empty body (stub)',
};

const ACTION_HINTS: Record<RuleAction, string> = {
  block: 'nothing reaches the server; the phone gets a 403, or a stub (204, or an empty body) so the app keeps running',
  redact: 'the identifier is replaced by a fake of the same format',
  allow: 'let it pass (and stop later rules from applying)',
};

/** Control rules: which identifiers may leave for where. First matching rule wins, per identifier. */
export function Rules() {
  const flaggedVersion = useStoreValue((s) => s.flaggedVersion);
  const [saveCount, setSaveCount] = useState(0);
  const { data, error } = useApi<RulesResponse>('/api/rules', `${flaggedVersion}:${saveCount}`, 1000);
  const [drafts, setDrafts] = useState<DraftRule[]>();
  const [errors, setErrors] = useState<string[]>([]);
  const [saved, setSaved] = useState('');
  const [busy, setBusy] = useState(false);
  const [proposed] = useState(proposedRule);
  /** the rules as saved, as drafts: what the editor holds is unsaved while it differs */
  const [baseline, setBaseline] = useState('');
  useEffect(clearProposedRule, []);
  useUnsaved(drafts !== undefined && JSON.stringify(drafts) !== baseline, 'the rules');

  useEffect(() => {
    if (data && drafts === undefined) {
      setDrafts([...data.rules, ...(proposed ? [proposed] : [])].map(toDraft));
      setBaseline(JSON.stringify(data.rules.map(toDraft)));
    }
  }, [data, drafts, proposed]);

  const counts = new Map((data?.rules ?? []).map((r, i) => [JSON.stringify(r), data?.touched[i] ?? 0]));
  const update = (i: number, patch: Partial<DraftRule>) => setDrafts((ds) => ds?.map((d, j) => (j === i ? { ...d, ...patch } : d)));
  const move = (i: number, by: number) =>
    setDrafts((ds) => {
      if (!ds || i + by < 0 || i + by >= ds.length) return ds;
      const next = [...ds];
      [next[i], next[i + by]] = [next[i + by], next[i]];
      return next;
    });

  const save = async () => {
    setErrors([]);
    setSaved('');
    const parsed = parseRules({ rules: (drafts ?? []).map(fromDraft) });
    if (!parsed.ok) return setErrors(parsed.issues.map((i) => i.message));
    setBusy(true);
    try {
      await api<RulesResponse>('/api/rules', { method: 'PUT', body: JSON.stringify(parsed.value) });
      setSaved('Saved. New requests are judged by these rules.');
      setDrafts(parsed.value.rules.map(toDraft));
      setBaseline(JSON.stringify(parsed.value.rules.map(toDraft)));
      setSaveCount((n) => n + 1);
    } catch (e) {
      setErrors(refusalOf(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page">
      <div className="page-head">
        <h2>Rules</h2>
      </div>
      <p className="muted">
        What to do when a request carries an identifier. Each identifier is governed by the first rule that matches it; empty fields match anything, and a host like <code>*.example.cn</code> covers
        example.cn and every host under it. One blocked identifier blocks the whole request.
      </p>
      {error ? <p className="error-text">Could not load the rules: {error}</p> : null}
      {proposed ? (
        <p className="ok-text" role="status" data-testid="proposed-rule">
          A rule from the finding is added at the end, not saved yet: review it (a rule above it may match first) and Save.
        </p>
      ) : null}
      <div className="detail-actions">
        <button type="button" onClick={() => setDrafts((ds) => [...(ds ?? []), { type: '', host: '', device: '', action: 'block', answer: '' }])} disabled={!drafts} data-testid="add-rule">
          + Add rule
        </button>
        <button type="button" className="primary" onClick={save} disabled={busy || !drafts} data-testid="save-rules">
          Save
        </button>
        {saved ? <span className="ok-text" role="status">{saved}</span> : null}
      </div>
      <ErrorBox errors={errors} testId="rule-errors" />
      {drafts && drafts.length > 0 ? (
        <table className="rules-table" data-testid="rules">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Identifier</th>
              <th scope="col">Host</th>
              <th scope="col">Device</th>
              <th scope="col">Action</th>
              <th scope="col" title="Flows this rule decided something about since leakscope started">Flows touched</th>
              <th scope="col">
                <span className="sr-only">Order and delete</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {drafts.map((d, i) => (
              <tr key={i} data-testid={`rule-${i}`}>
                <td className="muted">{i + 1}</td>
                <td>
                  <select value={d.type} onChange={(e) => update(i, { type: e.target.value })} aria-label={`Rule ${i + 1} identifier type`}>
                    <option value="">any identifier</option>
                    {IDENTIFIER_TYPES.map((t) => (
                      <option key={t} value={t}>
                        {typeLabel(t)}
                      </option>
                    ))}
                  </select>
                </td>
                <td>
                  <input value={d.host} onChange={(e) => update(i, { host: e.target.value })} placeholder="any host" aria-label={`Rule ${i + 1} host`} />
                </td>
                <td>
                  <input value={d.device} onChange={(e) => update(i, { device: e.target.value })} placeholder="any device" aria-label={`Rule ${i + 1} device`} />
                </td>
                <td>
                  <select value={d.action} onChange={(e) => update(i, { action: e.target.value as RuleAction })} title={ACTION_HINTS[d.action]} aria-label={`Rule ${i + 1} action`}>
                    {RULE_ACTIONS.map((a) => (
                      <option key={a} value={a}>
                        {a}
                      </option>
                    ))}
                  </select>
                  {d.action === 'block' ? (
                    <select value={d.answer || 'forbidden'} onChange={(e) => update(i, { answer: e.target.value === 'forbidden' ? '' : (e.target.value as BlockAnswer) })} aria-label={`Rule ${i + 1} answer to the phone`} data-testid={`rule-${i}-answer`}>
                      {BLOCK_ANSWERS.map((a) => (
                        <option key={a} value={a}>
                          {ANSWER_LABELS[a]}
                        </option>
                      ))}
                    </select>
                  ) : null}
                </td>
                <td className="rule-count" data-testid={`rule-${i}-touched`}>
                  {touchedOf(d, counts) ?? <span className="muted" title="Not saved yet">–</span>}
                </td>
                <td className="rule-buttons">
                  <button type="button" onClick={() => move(i, -1)} disabled={i === 0} aria-label={`Move rule ${i + 1} up`}>
                    ↑
                  </button>
                  <button type="button" onClick={() => move(i, 1)} disabled={i === drafts.length - 1} aria-label={`Move rule ${i + 1} down`}>
                    ↓
                  </button>
                  <button type="button" className="link-button danger" onClick={() => setDrafts((ds) => ds?.filter((_, j) => j !== i))} aria-label={`Delete rule ${i + 1}`}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {drafts && drafts.length === 0 ? <p className="empty">No rule: every request passes unchanged, and is still flagged.</p> : null}
    </div>
  );
}
