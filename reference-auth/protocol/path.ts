/**
 * What each decision path module provides: its required fields, how to turn parsed parameters
 * into a typed request, how to decide it, and which fields may be logged.
 */
import type { DecisionPath, ReasonCode } from '../decision.js';
import type { DecisionCore, Outcome } from '../decide.js';

/** A field problem found while building the typed request. */
export interface FieldProblem {
  reason: ReasonCode;
  field: string;
}

/** One of the broker's four paths. */
export interface PathSpec<Request> {
  path: DecisionPath;
  /**
   * Parameters that must be present and non-empty (otherwise `missing_parameter`): an empty
   * username or vhost names nobody, and must never reach a policy lookup as a wildcard-ish "".
   */
  required: readonly string[];
  /** Required parameters that may be empty (a routing key may be ""). */
  mayBeEmpty?: readonly string[];
  /** Builds the typed request from present, decoded, unique parameters. */
  toRequest(values: ReadonlyMap<string, string>): Request | FieldProblem;
  decide(core: DecisionCore, request: Request): Outcome | Promise<Outcome>;
  /** The request's loggable fields: never the password. */
  loggable(values: ReadonlyMap<string, string>): Record<string, string>;
}

/** Copies the named parameters that are present. */
export function pick(
  values: ReadonlyMap<string, string>,
  names: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = values.get(name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Narrows a value to one of a fixed set. */
export function oneOf<T extends string>(value: string, allowed: readonly T[]): value is T {
  return (allowed as readonly string[]).includes(value);
}
