/** Worker-thread entry: runs one share and talks to the coordinator over parentPort. */
import { parentPort, workerData } from 'node:worker_threads';

import { runShare, type ShareInput, type WorkerMessage } from './worker.js';

const port = parentPort;
if (port) {
  let startAt: (epochMs: number) => void = () => undefined;
  const start = new Promise<number>((resolve) => (startAt = resolve));
  port.on('message', (message: { type?: string; epochMs?: number }) => {
    if (message.type === 'start' && message.epochMs !== undefined) startAt(message.epochMs);
  });
  void runShare(workerData as ShareInput, {
    post: (message: WorkerMessage) => port.postMessage(message),
    startAt: () => start,
    onStop: (listener) =>
      port.on('message', (message: { type?: string }) => {
        if (message.type === 'stop') listener();
      }),
  }).then(() => port.close());
}
