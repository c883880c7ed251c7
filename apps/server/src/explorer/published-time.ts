const HOUR_MS = 3_600_000;

/**
 * Public times about a device are coarse and late. A proof time to the millisecond, or even to the minute,
 * lets anyone watching the explorer see which devices were challenged together, and so who owns what (group
 * challenges) or which devices share a machine. So a device's events are published to the hour, and only once
 * their hour has ended: everything from one hour appears at once, for every device, at the top of the next.
 */
export function publishedHour(at: Date | string | number, now: number): string | null {
  const ms = new Date(at).getTime();
  if (!Number.isFinite(ms)) return null;
  const hour = Math.floor(ms / HOUR_MS) * HOUR_MS;
  const currentHour = Math.floor(now / HOUR_MS) * HOUR_MS;
  return hour < currentHour ? new Date(hour).toISOString() : null;
}
