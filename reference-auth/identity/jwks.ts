/**
 * Signing keys from the IdP's JWKS endpoint, managed here rather than with jose's
 * createRemoteJWKSet so that the policy is explicit and testable with an injected clock:
 * keys are preloaded at start, refreshed in the background, refetched on an unknown `kid` at most
 * once per cooldown, and the last good set is kept while the IdP is down.
 */
import {
  createLocalJWKSet,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type FlattenedJWSInput,
} from 'jose';
import type { Clock } from '../controls.js';

/** How the key cache fetches and when. */
export interface JwksOptions {
  url: string;
  /** Per-fetch timeout, milliseconds. */
  timeoutMs: number;
  /** Age after which a use triggers a background refresh, milliseconds. */
  refreshMs: number;
  /** Least time between fetches caused by unknown `kid`s, milliseconds. */
  unknownKidCooldownMs: number;
  clock: Clock;
  /** Injectable for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

/** No key set has ever been fetched: the IdP was never reachable. */
export class JwksUnavailableError extends Error {
  override readonly name = 'JwksUnavailableError';
  readonly code = 'WARREN_AUTH_ERR_JWKS';
}

/** Health of the key cache, for /ready and the admin status. */
export interface JwksStatus {
  keyCount: number;
  lastSuccessMs?: number;
  lastAttemptMs?: number;
  /** The last fetch failure's message (never a secret: the JWKS URL and status only). */
  lastError?: string;
}

type KeyResolver = ReturnType<typeof createLocalJWKSet>;

/** A cached, self-refreshing JWKS. */
export class JwksCache {
  private resolver: KeyResolver | undefined;
  private keyCount = 0;
  private lastSuccessMs: number | undefined;
  private lastAttemptMs: number | undefined;
  private lastError: string | undefined;
  private inFlight: Promise<boolean> | undefined;

  constructor(private readonly options: JwksOptions) {}

  /** Fetches the key set once; resolves false (never throws) when the IdP is unreachable. */
  preload(): Promise<boolean> {
    return this.refresh();
  }

  /** True once a key set is held. */
  get ready(): boolean {
    return this.resolver !== undefined;
  }

  status(): JwksStatus {
    return {
      keyCount: this.keyCount,
      ...(this.lastSuccessMs === undefined ? {} : { lastSuccessMs: this.lastSuccessMs }),
      ...(this.lastAttemptMs === undefined ? {} : { lastAttemptMs: this.lastAttemptMs }),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  /** jose key-resolver: the key for a token header, refetching once per cooldown on a miss. */
  readonly getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    if (!this.resolver) {
      if (this.mayFetchNow()) await this.refresh();
      if (!this.resolver)
        throw new JwksUnavailableError(`no signing keys from ${this.options.url}`);
    } else {
      this.refreshInBackgroundIfStale();
    }
    try {
      return await this.resolver(header, token);
    } catch (error) {
      if (!isNoMatchingKey(error) || !this.mayFetchNow()) throw error;
      await this.refresh();
      return this.resolver(header, token);
    }
  };

  /** Fetches now (single-flight); keeps the previous keys when this fetch fails. */
  refresh(): Promise<boolean> {
    this.inFlight ??= this.fetchKeys().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async fetchKeys(): Promise<boolean> {
    this.lastAttemptMs = this.options.clock.nowMs();
    try {
      const doFetch = this.options.fetch ?? fetch;
      const response = await doFetch(this.options.url, {
        signal: AbortSignal.timeout(this.options.timeoutMs),
        headers: { accept: 'application/json' },
      });
      if (!response.ok) throw new Error(`status ${response.status}`);
      const body = (await response.json()) as JSONWebKeySet;
      const resolver = createLocalJWKSet(body);
      this.resolver = resolver;
      this.keyCount = Array.isArray(body.keys) ? body.keys.length : 0;
      this.lastSuccessMs = this.options.clock.nowMs();
      this.lastError = undefined;
      return true;
    } catch (error) {
      // A JWKS outage surfaces as a plain "fetch failed" TypeError: keep the message short.
      this.lastError = `${this.options.url}: ${error instanceof Error ? error.message : 'fetch failed'}`;
      return false;
    }
  }

  /** A fetch is already running (join it) or the cooldown since the last attempt has passed. */
  private mayFetchNow(): boolean {
    return this.inFlight !== undefined || this.cooldownPassed();
  }

  private cooldownPassed(): boolean {
    const last = this.lastAttemptMs;
    return (
      last === undefined || this.options.clock.nowMs() - last >= this.options.unknownKidCooldownMs
    );
  }

  private refreshInBackgroundIfStale(): void {
    const last = this.lastSuccessMs ?? -Infinity;
    if (this.options.clock.nowMs() - last < this.options.refreshMs || !this.cooldownPassed())
      return;
    void this.refresh();
  }
}

function isNoMatchingKey(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_JWKS_NO_MATCHING_KEY';
}
