// Bounded parallelism for work over many users (loading records, sweeping,
// reconciling): a few round trips in flight at once, never one per user.

/**
 * Runs `work` for every item, at most `limit` at a time, in order of the
 * items. Rejects with the first error `work` throws once the running calls
 * have finished; callers that must go on after a failure catch inside `work`.
 */
export async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) {
      const item = items[i];
      if (item !== undefined) await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
}
