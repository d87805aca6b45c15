/**
 * The technical message behind a plain one, closed: it helps whoever diagnoses the failure, and
 * would only alarm an annotator.
 */
export function ErrorDetail({ detail }: { detail: string | null }) {
  if (detail === null) return null;
  return (
    <details className="error-detail" data-testid="error-detail">
      <summary>Technical detail</summary>
      <code>{detail}</code>
    </details>
  );
}
