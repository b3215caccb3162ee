import { describe, expect, it } from 'vitest';
import { defineKernel, describeFunction, registerModule } from '../../../src/index.js';
import { resolveFunction } from '../../../src/graph/shipping/registry.js';
import { square } from '../../fixtures/user-module.js';

describe('function shipping registry', () => {
  it('describes library kernels by their registered name', async () => {
    const d = describeFunction((await import('../../../src/graph/kernels.js')).buildObject);
    expect(d).toMatchObject({ ok: true, ref: { kind: 'kernel', name: 'core.buildObject' } });
    if (!d.ok) throw new Error('unreachable');
    const fn = await resolveFunction(d.ref);
    expect(fn(['a'], [1])).toEqual({ a: 1 });
  });

  it('describes registered module exports as { module, export } and resolves them by import', async () => {
    const d = describeFunction(square);
    expect(d).toMatchObject({ ok: true, ref: { kind: 'module', export: 'square' } });
    if (!d.ok || d.ref.kind !== 'module') throw new Error('unreachable');
    expect(d.ref.module).toMatch(/^file:.*user-module\.ts$/);
    expect((await resolveFunction(d.ref))(9)).toBe(81);
  });

  it('describes built-ins by path and self-contained functions by source', async () => {
    expect(describeFunction(Math.max)).toMatchObject({ ok: true, ref: { kind: 'global', path: 'Math.max' } });
    const cube = (x: number) => x ** 3;
    const d = describeFunction(cube);
    expect(d).toMatchObject({ ok: true, ref: { kind: 'source' } });
    if (!d.ok) throw new Error('unreachable');
    expect((await resolveFunction(d.ref))(3)).toBe(27);
    expect(describeFunction(cube)).toBe(d);
  });

  it('refuses a closure, naming the variable and the fix', () => {
    const n = 4;
    const addN = (x: number) => x + n;
    const d = describeFunction(addN);
    expect(d.ok).toBe(false);
    if (d.ok) throw new Error('unreachable');
    expect(d.reason).toContain("'n'");
    expect(d.reason).toContain('registerModule');
  });

  it('refuses conflicting kernel names and bad registrations', () => {
    defineKernel('test.kernel-a', (x: number) => x);
    expect(() => defineKernel('test.kernel-a', (x: number) => x * 2)).toThrow(/already registered/);
    expect(() => registerModule('not a url', {})).toThrow(/import\.meta\.url/);
    expect(() => registerModule(import.meta.url, null as never)).toThrow(/object of exported functions/);
  });

  it('reports unknown kernels and missing exports on the receiving side', async () => {
    await expect(resolveFunction({ kind: 'kernel', name: 'no.such' })).rejects.toThrow(/no kernel named 'no.such'/);
    const url = new URL('../../fixtures/user-module.ts', import.meta.url).href;
    await expect(resolveFunction({ kind: 'module', module: url, export: 'nope' })).rejects.toThrow(/no exported function 'nope'/);
  });
});
