import type { ValidationError } from '../../../shared/api';
import { ApiError } from '../store/api';

/** Validation errors, one sentence a line (shared/issues.ts words them). */
export function ErrorBox({ errors, testId }: { errors: string[]; testId: string }) {
  if (errors.length === 0) return null;
  return (
    <div className="error-box" role="alert" data-testid={testId}>
      {errors.map((e, i) => (
        <div key={i}>{e}</div>
      ))}
    </div>
  );
}

/** What to show when the server refuses a save: its sentences for a document that does not validate. */
export function refusalOf(e: unknown): string[] {
  const body = e instanceof ApiError ? (e.body as Partial<ValidationError> | undefined) : undefined;
  if (Array.isArray(body?.issues) && body.issues.length) return body.issues.map((i) => `The server refused it: ${i.message}`);
  return [`The server refused it: ${(e as Error).message}`];
}
