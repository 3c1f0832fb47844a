/**
 * The decision log: one pino JSON line per decision. Records never hold a password or token
 * (see decision.ts); denials caused by the service's own state log at `warn`, the rest at `info`
 * (a denial is normal traffic, not an error).
 */
import pino, { type Logger } from 'pino';
import { ReasonCode, type DecisionRecord, type DecisionSink } from '../decision.js';

const serviceReasons: ReadonlySet<string> = new Set([
  ReasonCode.Overloaded,
  ReasonCode.DependencyUnavailable,
  ReasonCode.InternalError,
]);

/** A DecisionSink writing one line per decision to a pino logger. */
export function createDecisionLogSink(logger: Logger): DecisionSink {
  const decisions = logger.child({ channel: 'decision' });
  return {
    record(decision: DecisionRecord): void {
      const level = serviceReasons.has(decision.reason) ? 'warn' : 'info';
      decisions[level](decision, `${decision.path} ${decision.verdict} ${decision.reason}`);
    },
  };
}

/**
 * The service logger. Request serializers keep only method and path: the broker sends the
 * password in the GET query string, so a URL must never reach a log line.
 */
export function createServiceLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'reference-auth' },
    serializers: {
      req: (req: { method?: string; url?: string }) => ({
        method: req.method,
        path: (req.url ?? '').split('?')[0],
      }),
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
