import { describe, expect, it } from 'vitest';
import { HyperionError } from '../src/index';
import { native } from '../src/native';

describe('native jobs', () => {
  it('run on a native thread of their own while the event loop keeps turning', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const threadId = await native()._test.sleepJob(200, false);
    clearInterval(timer);
    expect(threadId).not.toBe(native()._test.threadId());
    expect(ticks).toBeGreaterThan(10);
  });

  it('reject with a HyperionError carrying the C error record', async () => {
    const err = (await native()._test.sleepJob(5, true).catch((e: unknown) => e)) as HyperionError;
    expect(err).toBeInstanceOf(HyperionError);
    expect(err.code).toBe('HYPERION_TIMEOUT');
    expect(err.elapsedMs).toBe(5);
    expect(err.file).toBe('addon/testing.cc');
  });

  it('many at once all settle', async () => {
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => native()._test.sleepJob(10, i % 2 === 1)));
    expect(results.filter((r) => r.status === 'fulfilled').length).toBe(10);
    expect(results.filter((r) => r.status === 'rejected').length).toBe(10);
  });
});
