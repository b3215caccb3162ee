/** Axis arguments as numpy reads them: negatives count from the end. */

/** `axis` as an index in [0, ndim); a RangeError names the axis and the number of axes. */
export function normalizeAxis(axis: number, ndim: number, where: string): number {
  if (!Number.isInteger(axis)) throw new TypeError(`${where}: axis must be an integer, got ${String(axis)}`);
  if (axis < -ndim || axis >= ndim) throw new RangeError(`${where}: axis ${axis} is out of bounds for an array of ${ndim} dimension${ndim === 1 ? '' : 's'}`);
  return axis < 0 ? axis + ndim : axis;
}

/** Several axes, normalised; repeats are an error. */
export function normalizeAxes(axes: readonly number[], ndim: number, where: string): number[] {
  const out = axes.map((a) => normalizeAxis(a, ndim, where));
  if (new Set(out).size !== out.length) throw new RangeError(`${where}: repeated axis in [${axes.join(', ')}]`);
  return out;
}

export function fmtShape(shape: readonly number[]): string {
  return `[${shape.map((n) => (Number.isNaN(n) ? 'nan' : n)).join(', ')}]`;
}
