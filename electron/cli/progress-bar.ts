import type { TaskProgress } from '../../shared/api';
import { number, terminalText } from './format';

function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

export function describeProgress(p: TaskProgress): string {
  const counts =
    p.total === null
      ? `${number.format(p.done)} ${p.unit}`
      : `${number.format(p.done)}/${number.format(p.total)} ${p.unit}`;
  const share = p.total ? ` ${((100 * p.done) / p.total).toFixed(1)}%` : '';
  const rate = ` ${number.format(Math.round(p.ratePerSecond))} ${p.unit}/s`;
  const eta =
    p.state === 'running' && p.etaSeconds !== null ? ` ETA ${formatSeconds(p.etaSeconds)}` : '';
  const detail = p.detail ? `  ${p.detail}` : '';
  return `${p.kind} ${counts}${share}${rate}${eta}${detail}`;
}

/**
 * Draws task progress on stderr: a bar redrawn in place on a terminal, or a line every few
 * seconds when stderr is a file or a pipe (CI logs stay readable).
 */
export function createProgressBar(stream: NodeJS.WriteStream = process.stderr) {
  const interactive = stream.isTTY === true;
  let lastLine = 0;
  return (progress: TaskProgress): void => {
    // Its detail may name a file, whose name is anyone's to choose.
    const text = terminalText(describeProgress(progress));
    const finished = progress.state !== 'running';
    if (interactive) {
      const width = 24;
      const filled = progress.total ? Math.round((width * progress.done) / progress.total) : 0;
      const bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
      stream.write(`\r\x1b[2K${bar} ${text}${finished ? '\n' : ''}`);
      return;
    }
    const now = Date.now();
    if (finished || now - lastLine >= 2000) {
      lastLine = now;
      stream.write(`${text}${finished ? ` (${progress.state})` : ''}\n`);
    }
  };
}
