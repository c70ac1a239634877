/**
 * `Tally`: a counter that can be awaited, so a benchmark waits exactly until N things have happened
 * (N subscribers ready, N deliveries of a round) instead of polling on a timer, which would add the
 * timer's granularity to the figures it is measuring.
 */

/** A counter whose waiters resolve once it reaches their target, or at their timeout. */
export class Tally {
  count = 0;
  private waiters: { target: number; resolve: (reached: boolean) => void; timer: NodeJS.Timeout }[] = [];

  /** Counts one occurrence and wakes the waiters whose target is now reached. */
  add(): void {
    this.count += 1;
    const due = this.waiters.filter((waiter) => this.count >= waiter.target);
    if (due.length === 0) return;
    this.waiters = this.waiters.filter((waiter) => this.count < waiter.target);
    for (const waiter of due) {
      clearTimeout(waiter.timer);
      waiter.resolve(true);
    }
  }

  /** Resolves true once the count reaches `target`, or false after `timeoutMs` if it has not. */
  reached(target: number, timeoutMs: number): Promise<boolean> {
    if (this.count >= target) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        target,
        resolve,
        timer: setTimeout(
          () => {
            this.waiters = this.waiters.filter((other) => other !== waiter);
            resolve(false);
          },
          Math.max(0, timeoutMs),
        ),
      };
      this.waiters.push(waiter);
    });
  }
}
