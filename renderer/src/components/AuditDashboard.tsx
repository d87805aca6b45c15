import { useEffect } from 'react';
import type { AuditReport } from '../../../shared/audit';
import { useAudit } from '../state/audit';
import { formatCount } from '../state/format';
import { AgreementCards } from './AgreementCards';
import { AnnotatorChecks } from './AnnotatorChecks';
import { AnnotatorTable } from './AnnotatorTable';
import { CohenTable } from './CohenTable';
import { ConfusionMatrixTable } from './ConfusionMatrixTable';
import { DashboardFilters } from './DashboardFilters';
import { GeneratorTable } from './GeneratorTable';
import { ProjectSettingsPanel } from './ProjectSettingsPanel';
import { ReliabilityChart } from './ReliabilityChart';
import { ThresholdChart } from './ThresholdChart';

function seconds(eta: number | null): string {
  if (eta === null) return '';
  return eta < 60 ? `, about ${Math.ceil(eta)} s left` : `, about ${Math.ceil(eta / 60)} min left`;
}

/** Where the bootstrap intervals are: they follow the figures, from a worker in the core. */
function IntervalsStatus() {
  const intervals = useAudit((s) => s.intervals);
  const loadIntervals = useAudit((s) => s.loadIntervals);
  const cancelIntervals = useAudit((s) => s.cancelIntervals);
  if (intervals.state === 'ready') return null;
  return (
    <p className="dashboard-intervals" data-testid="audit-intervals" data-state={intervals.state}>
      {intervals.state === 'computing' ? (
        <>
          <span role="status">
            Computing bootstrap intervals
            {intervals.total !== null &&
              `: ${formatCount(intervals.done)} of ${formatCount(intervals.total)} resamples${seconds(intervals.eta)}`}
            …
          </span>{' '}
          <button type="button" onClick={cancelIntervals}>
            Cancel
          </button>
        </>
      ) : (
        <>
          <span role={intervals.state === 'failed' ? 'alert' : undefined}>
            {intervals.state === 'failed'
              ? `The intervals could not be computed: ${intervals.error}`
              : 'Intervals not computed.'}
          </span>{' '}
          <button type="button" onClick={() => void loadIntervals()}>
            Compute intervals
          </button>
        </>
      )}
    </p>
  );
}

function Summary({ report }: { report: AuditReport }) {
  const { counts, bootstrap } = report.dashboard;
  const parts = [
    `${formatCount(counts.judgedPairs)} of ${formatCount(counts.pairs)} pairs judged`,
    `${formatCount(counts.verdicts)} verdicts`,
    `${formatCount(counts.annotators)} annotators`,
    report.model
      ? `${report.model}: ${formatCount(counts.scoredPairs)} pairs scored`
      : 'no model scores this project',
    bootstrap.resamples > 0
      ? `${Math.round(bootstrap.level * 100)}% bootstrap intervals over pairs (${formatCount(bootstrap.resamples)} resamples)`
      : null,
  ].filter((part) => part !== null);
  return (
    <>
      <p className="dashboard-summary" data-testid="audit-summary">
        {parts.join(' · ')}
      </p>
      <IntervalsStatus />
    </>
  );
}

function Figures({ report }: { report: AuditReport }) {
  const filtered = Object.keys(report.filters).length > 0;
  if (report.dashboard.counts.verdicts === 0) {
    return (
      <section className="dashboard-empty" data-testid="audit-empty">
        <h2>{filtered ? 'No verdicts match these filters' : 'No verdicts yet'}</h2>
        <p className="hint">
          {filtered
            ? 'Widen the filters to see figures.'
            : 'The figures appear once annotators have labeled pairs (g l to label).'}
        </p>
      </section>
    );
  }
  return (
    <>
      <Summary report={report} />
      <AgreementCards report={report} />
      {report.model === null ? (
        <section className="dashboard-empty" data-testid="audit-no-model">
          <h2>No model scores this project</h2>
          <p className="hint">
            The confusion matrix, calibration and threshold figures need a model&apos;s scores:
            score the project with <code>pickstudio score PROJECT --model FOLDER</code> (a folder in
            PickScore&apos;s format), or register one with <code>pickstudio model add</code>.
          </p>
        </section>
      ) : (
        <div className="dashboard-model">
          <ConfusionMatrixTable report={report} />
          <ReliabilityChart calibration={report.dashboard.calibration} />
          <ThresholdChart report={report} />
        </div>
      )}
      <AnnotatorTable rows={report.dashboard.annotators} model={report.model} />
      <AnnotatorChecks quality={report.quality} />
      <CohenTable
        rows={report.dashboard.agreement.cohen}
        filters={report.filters}
        counts={{
          annotators: report.dashboard.counts.annotators,
          belowMinimum: report.dashboard.agreement.cohenBelowMinimum,
        }}
      />
      <GeneratorTable rows={report.generators} model={report.model} />
    </>
  );
}

/** The agreement figures under the chosen filters; fetched afresh each time the tab opens. */
export function AuditDashboard() {
  const status = useAudit((s) => s.status);
  const report = useAudit((s) => s.report);
  const error = useAudit((s) => s.error);
  const load = useAudit((s) => s.load);

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <div
      className="dashboard"
      data-testid="audit-dashboard"
      data-state={status}
      aria-busy={status === 'loading'}
    >
      <aside className="dashboard-side">
        <DashboardFilters />
        <ProjectSettingsPanel />
      </aside>
      <div className="dashboard-main">
        {error !== null && (
          <div className="error-banner" role="alert" data-testid="audit-error">
            <p>The figures could not be computed: {error}</p>
            <button type="button" onClick={() => void load()}>
              Try again
            </button>
          </div>
        )}
        {report ? (
          <Figures report={report} />
        ) : (
          status === 'loading' && (
            <p className="dashboard-loading" data-testid="audit-loading">
              Computing the figures…
            </p>
          )
        )}
      </div>
    </div>
  );
}
