import { useEffect, useState } from 'react';
import { FilterError, operatorCompletions, parseFilter } from '../../../shared/filter';

/** Why `src` does not parse, or '' (checked here so a typo is shown before anything is asked of the server). */
function problem(src: string): string {
  if (!src.trim()) return '';
  try {
    parseFilter(src);
    return '';
  } catch (err) {
    return err instanceof FilterError ? err.message : String(err);
  }
}

/**
 * The search box: a word searches URLs, headers and bodies; `~` starts an operator (README "Filter expressions"),
 * offered as the tester types. Writes a valid expression to the store after a short pause in typing.
 */
export function ExpressionInput(props: { value: string; onChange: (v: string) => void; serverError: string }) {
  const [local, setLocal] = useState(props.value);
  useEffect(() => setLocal(props.value), [props.value]);
  const error = problem(local);
  useEffect(() => {
    if (local === props.value || error) return;
    const t = setTimeout(() => props.onChange(local), 250);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [local]);
  const completions = operatorCompletions(local);
  const complete = (op: string) => setLocal(local.replace(/~[a-z]*$/i, `~${op} `));
  const shown = error || props.serverError;
  return (
    <div className="field expression">
      <label className="field-label" htmlFor="filter-q">
        Search / filter
      </label>
      <input
        id="filter-q"
        type="search"
        value={local}
        placeholder="word, or ~dev redmi & ~cc CN"
        data-testid="filter-q"
        autoComplete="off"
        spellCheck={false}
        aria-invalid={shown ? true : undefined}
        aria-describedby={shown ? 'filter-q-error' : undefined}
        onChange={(e) => setLocal(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Tab' && completions.length > 0 && !e.shiftKey) {
            e.preventDefault();
            complete(completions[0].op);
          } else if (e.key === 'Enter' && !error) props.onChange(local);
        }}
      />
      {completions.length > 0 ? (
        <ul className="completions" data-testid="filter-completions" aria-label="Operators">
          {completions.map((c) => (
            <li key={c.op}>
              <button type="button" onClick={() => complete(c.op)}>
                <code>~{c.op}</code> <span className="muted">{c.help}</span>
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      {shown ? (
        <span className="error-text small" id="filter-q-error" role="alert" data-testid="filter-error">
          {shown}
        </span>
      ) : null}
    </div>
  );
}
