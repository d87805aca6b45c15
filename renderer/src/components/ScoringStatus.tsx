import { useEffect, useState } from 'react';
import type { MethodResult } from '../../../shared/api';
import { studio } from '../studio';

type Status = MethodResult<'getScoringStatus'>;

/**
 * Which model scores the project, on which execution provider, and how far it got: refreshed on
 * every scoring progress event, so background scoring is visible while the annotator works.
 */
export function ScoringStatus() {
  const [status, setStatus] = useState<Status | null>(null);
  useEffect(() => {
    let live = true;
    const refresh = (): void => {
      studio.getScoringStatus({}).then(
        (next) => live && setStatus(next),
        () => undefined,
      );
    };
    refresh();
    const stop = studio.on('progress', (progress) => {
      if (progress.kind === 'score' && progress.state !== 'running') refresh();
    });
    return () => {
      live = false;
      stop();
    };
  }, []);
  if (!status?.model) return null;
  const failures = status.providerFailures.map((f) => `${f.provider}: ${f.reason}`).join('\n');
  return (
    <span className="topbar-scoring" data-testid="scoring-status" title={failures || undefined}>
      {status.model}
      {status.provider && ` on ${status.provider}`} · {status.scoredPairs}/{status.totalPairs}{' '}
      scored
      {status.running && ' (scoring…)'}
    </span>
  );
}
