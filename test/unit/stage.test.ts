import { describe, expect, it, vi } from 'vitest';
import { Stage } from '../../src/init/stage.js';

const stage = <T>() => new Stage<T>('admin', () => {});

describe('Stage', () => {
  it('runs once for concurrent callers and keeps the value', async () => {
    const s = stage<number>();
    const run = vi.fn(async () => ({ value: 42 }));
    const [a, b] = await Promise.all([s.get(run), s.get(run)]);
    expect([a, b, await s.get(run)]).toEqual([42, 42, 42]);
    expect(run).toHaveBeenCalledTimes(1);
    expect(s.status()).toMatchObject({ state: 'ready', runs: 1 });
  });

  it('does not keep a failure: the next call runs again', async () => {
    const s = stage<string>();
    const run = vi.fn().mockRejectedValueOnce(new Error('broker down')).mockResolvedValueOnce({ value: 'ok' });
    await expect(s.get(run)).rejects.toThrow('broker down');
    expect(s.status()).toMatchObject({ state: 'failed', detail: 'broker down' });
    await expect(s.get(run)).resolves.toBe('ok');
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('reports a skipped stage with its reason and no duration metric', async () => {
    const durations = vi.fn();
    const s = new Stage<number>('broker_health', durations);
    await s.get(async () => ({ value: -1, skipped: 'KAFKA_STARTUP_HEALTH_CHECK=false' }));
    expect(s.status()).toMatchObject({ state: 'skipped', detail: 'KAFKA_STARTUP_HEALTH_CHECK=false' });
    expect(durations).not.toHaveBeenCalled();
  });

  it('after evict() runs again and returns what it held, for disposal', async () => {
    const s = stage<{ id: number }>();
    let id = 0;
    const first = await s.get(async () => ({ value: { id: ++id } }));
    expect(s.evict('connections lost')).toBe(first);
    expect(await s.get(async () => ({ value: { id: ++id } }))).toEqual({ id: 2 });
  });
});
