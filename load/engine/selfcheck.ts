/**
 * The generator's self-check: a load test whose generator could not keep up measured the
 * generator, not the target. Each finding names the figure, its limit and the likely fix;
 * any finding makes the run INVALID (exit 2) instead of passed or failed.
 */
import { mergeTotals, type MetricsStore } from './metrics.js';
import type { RunResult } from './run.js';

export interface SelfCheckFinding {
  /** Stable key: event_loop_lag, start_lag, dropped, cpu, socket_errors. */
  check: string;
  observed: number;
  limit: number;
  message: string;
}

export interface SelfCheckReport {
  valid: boolean;
  findings: SelfCheckFinding[];
  figures: {
    eventLoopLagP95Ms: number;
    startLagP95Ms: number;
    droppedIterations: number;
    scheduledIterations: number;
    cpuShare: number;
    socketErrors: number;
  };
}

function trendP95Ms(store: MetricsStore, name: string): number {
  const merged = mergeTotals(store.select(name));
  return merged?.histogram && merged.histogram.count > 0
    ? merged.histogram.hdr.percentile(95) / 1000
    : 0;
}

function counterSum(store: MetricsStore, name: string): number {
  return store.select(name).reduce((sum, series) => sum + series.total.sum, 0);
}

/** Judges whether the generator was the bottleneck of a run. */
export function selfCheck(result: RunResult, store: MetricsStore): SelfCheckReport {
  const limits = result.scenario.selfCheck;
  const dropped = counterSum(store, 'dropped_iterations');
  const iterations = counterSum(store, 'iterations');
  const figures = {
    eventLoopLagP95Ms: trendP95Ms(store, 'generator_event_loop_lag'),
    startLagP95Ms: trendP95Ms(store, 'generator_start_lag'),
    droppedIterations: dropped,
    scheduledIterations: dropped + iterations,
    cpuShare: result.generator.cpuShare,
    socketErrors: counterSum(store, 'generator_socket_errors'),
  };
  const findings: SelfCheckFinding[] = [];
  const flag = (check: string, observed: number, limit: number, message: string): void => {
    if (observed > limit) findings.push({ check, observed, limit, message });
  };
  flag(
    'event_loop_lag',
    figures.eventLoopLagP95Ms,
    limits.maxEventLoopLagMs,
    'worker event loops stalled (p95 of per-second p99 delay): fewer iterations per worker, more workers, or a quieter machine',
  );
  flag(
    'start_lag',
    figures.startLagP95Ms,
    limits.maxStartLagP95Ms,
    'iterations started late (p95 of actual − intended start): the generator could not keep the schedule',
  );
  const droppedRatio = figures.scheduledIterations > 0 ? dropped / figures.scheduledIterations : 0;
  flag(
    'dropped',
    droppedRatio,
    limits.maxDroppedRatio,
    'iterations were dropped because every VU was busy: raise maxVUs so the intended load is offered',
  );
  flag(
    'cpu',
    figures.cpuShare,
    limits.maxCpuShare,
    'the generator used nearly every core: run it on another machine or lower the rate',
  );
  flag(
    'socket_errors',
    figures.socketErrors,
    limits.maxSocketErrors,
    'the generator ran out of local sockets or descriptors (EADDRNOTAVAIL, EMFILE, ...): raise ulimit -n or spread over machines',
  );
  return { valid: findings.length === 0, findings, figures };
}
