// Live updates: poll while there is something to watch, back off while nothing changes,
// pause while the tab is hidden and refresh at once when it comes back.

export const POLL_MIN_MS = 2000;
export const POLL_MAX_MS = 30000;

export class Poller {
  // tick() resolves to { changed, keepGoing }; it throws to report a failed refresh.
  constructor(tick, onError) {
    this.tick = tick;
    this.onError = onError || (() => {});
    this.delay = POLL_MIN_MS;
    this.timer = null;
    this.wanted = false;
    this.busy = false;
    document.addEventListener("visibilitychange", () => {
      if (document.hidden) { this.clear(); return; }
      if (this.wanted && !this.busy) { this.delay = POLL_MIN_MS; this.clear(); this.run(); }
    });
  }

  clear() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  // Watch (or stop watching); `reset` starts again from the shortest delay.
  schedule(keepGoing, reset) {
    this.clear();
    this.wanted = Boolean(keepGoing);
    if (reset || !this.wanted) this.delay = POLL_MIN_MS;
    if (!this.wanted || document.hidden) return;
    this.timer = setTimeout(() => this.run(), this.delay);
  }

  stop() { this.schedule(false); }

  slower() { return Math.min(POLL_MAX_MS, Math.round(this.delay * 1.5)); }

  async run() {
    this.timer = null;
    this.busy = true;
    try {
      const { changed, keepGoing, stale } = await this.tick();
      if (stale) return;  // navigation moved on; the new view schedules its own polling
      this.delay = changed ? POLL_MIN_MS : this.slower();
      this.schedule(keepGoing);
    } catch (error) {
      this.delay = this.slower();
      this.onError(error);
      this.schedule(true);
    } finally {
      this.busy = false;
    }
  }
}
