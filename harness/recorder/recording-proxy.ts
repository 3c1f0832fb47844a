import type { ListenOptions, Recorder } from './recording-server.js';
import { startRecorder } from './recording-server.js';

/** Options of {@link startRecordingProxy}. */
export interface ProxyOptions extends ListenOptions {
  /** Base URL calls are forwarded to, e.g. `http://127.0.0.1:8600` (reference-auth). */
  target: string;
  /** Give up on the target after this long and answer 504; default 5000 ms. */
  timeoutMs?: number;
}

/**
 * A recording proxy: forwards every call (same method, path, query and form body) to `target`,
 * records the call and the target's answer, and passes that answer back. Scenarios' spy mode:
 * the broker talks to the real service and the recording shows exactly what it asked.
 * A target that fails or times out is answered with 502/504 (the broker then refuses).
 */
export function startRecordingProxy(options: ProxyOptions): Promise<Recorder> {
  const target = options.target.replace(/\/+$/, '');
  return startRecorder(async (call) => {
    const query = call.method === 'GET' && call.rawParams ? `?${call.rawParams}` : '';
    const headers: Record<string, string> = {};
    const contentType = call.headers['content-type'];
    if (typeof contentType === 'string') headers['content-type'] = contentType;
    try {
      const response = await fetch(`${target}${call.path}${query}`, {
        method: call.method,
        headers,
        ...(call.method === 'POST' && { body: call.rawParams }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      });
      return { status: response.status, body: await response.text() };
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      return { status: timedOut ? 504 : 502, body: `proxy: target unreachable` };
    }
  }, options);
}
