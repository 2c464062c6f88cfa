/** Validation errors as `describeIssues` joins them ("field: message; field: message"), one per line. */
export function ErrorBox({ errors, testId }: { errors: string; testId: string }) {
  if (!errors) return null;
  return (
    <div className="error-box" role="alert" data-testid={testId}>
      {errors.split('; ').map((e, i) => (
        <div key={i}>{e}</div>
      ))}
    </div>
  );
}
