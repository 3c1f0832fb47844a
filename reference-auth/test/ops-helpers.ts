/** Small helpers shared by the operations tests. */

/** Polls a condition every few milliseconds until it holds or the deadline passes. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  deadlineMs = 2000,
): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`condition not met within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
