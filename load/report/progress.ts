/** The live progress line, once a second. */
import { formatMs } from '../engine/duration.js';
import { mergeWindow, type MetricsStore } from '../engine/metrics.js';
import { bucketPercentile } from '../engine/histogram.js';
import type { Progress } from '../engine/run.js';

function lastSecondOf(store: MetricsStore, name: string, second: number) {
  return mergeWindow(store.select(name), second, second + 1);
}

function totalCount(store: MetricsStore, name: string): number {
  return store.select(name).reduce((sum, series) => sum + series.total.sum, 0);
}

/** `[  12s / 30s ] 998 it/s  p95 1.20ms  failed 0.00%  in flight 3  dropped 0`. */
export function progressLine(progress: Progress): string {
  const { store } = progress;
  // The second just finished is complete in every worker's flush; the current one is not.
  const second = Math.max(0, Math.floor(progress.elapsedMs / 1000) - 1);
  const iterations = lastSecondOf(store, 'iterations', second);
  const latency =
    lastSecondOf(store, 'http_req_duration', second) ??
    lastSecondOf(store, 'amqp_connect_duration', second) ??
    lastSecondOf(store, 'iteration_duration', second);
  const failed = lastSecondOf(store, 'iteration_failed', second);
  const p95 = latency?.buckets?.size ? formatMs(bucketPercentile(latency.buckets, 95) / 1000) : '-';
  const failedShare = failed && failed.count ? (failed.passes / failed.count) * 100 : 0;
  const elapsed = `${Math.round(progress.elapsedMs / 1000)}s / ${Math.round(progress.plannedMs / 1000)}s`;
  return (
    `[ ${elapsed.padStart(11)} ] ${String(iterations?.sum ?? 0).padStart(6)} it/s` +
    `  p95 ${p95.padStart(8)}  failed ${failedShare.toFixed(2)}%` +
    `  in flight ${progress.inFlight}  dropped ${totalCount(store, 'dropped_iterations')}`
  );
}
