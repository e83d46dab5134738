// Partitions worked on at once (--concurrency), started a table at a time. A table's
// partitions ask for the same things at the same steps (the alive flags of a table and
// endpoint: alive-flags.ts; a look at the table: replan-together.ts); started one by one as
// slots freed, they asked at scattered moments, and those went out partition by partition.
// So a table's partitions (in service order, at most the whole limit) wait until there is
// room for all of them, then start together. A few slots may stay free meanwhile: at most
// a table's worth, out of hundreds.

export class Admission {
  readonly limit: number;
  private free: number;
  private readonly queue: Array<{ n: number; go: () => void }> = [];

  constructor(limit: number) {
    this.limit = Math.max(1, limit);
    this.free = this.limit;
  }

  /** Runs each of `tasks` once the whole group has room (a group larger than the limit: in chunks of the limit). */
  group<T>(tasks: ReadonlyArray<() => Promise<T>>): Array<Promise<T>> {
    const out: Array<Promise<T>> = [];
    for (let i = 0; i < tasks.length; i += this.limit) {
      const chunk = tasks.slice(i, i + this.limit);
      const admitted = this.take(chunk.length);
      out.push(...chunk.map((task) => admitted.then(task).finally(() => this.give())));
    }
    return out;
  }

  /** First come, first served: a later group never overtakes one waiting for more room. */
  private take(n: number): Promise<void> {
    if (this.queue.length === 0 && this.free >= n) {
      this.free -= n;
      return Promise.resolve();
    }
    return new Promise((go) => this.queue.push({ n, go }));
  }

  private give(): void {
    this.free++;
    for (let head = this.queue[0]; head && this.free >= head.n; head = this.queue[0]) {
      this.queue.shift();
      this.free -= head.n;
      head.go();
    }
  }
}
