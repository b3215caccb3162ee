/**
 * What the command-line programs share: argument parsing with usage errors (exit status 2), and a
 * clean exit on SIGINT / SIGTERM (close the servers, exit 0).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Bad arguments: the program prints the message and its usage, and exits with status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface Parsed {
  readonly values: Record<string, string | boolean | undefined>;
  readonly positionals: string[];
}

/** parseArgs with every problem as a UsageError. */
export function parse(args: readonly string[], options: NonNullable<ParseArgsConfig['options']>, allowPositionals: boolean): Parsed {
  try {
    const r = parseArgs({ args: [...args], options, allowPositionals, strict: true });
    return { values: r.values as Parsed['values'], positionals: r.positionals };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** An integer option in [min, max], or `fallback` when absent. */
export function intOption(values: Parsed['values'], name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const text = String(raw);
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer in ${min}..${max === Number.MAX_SAFE_INTEGER ? '∞' : max}, got '${text}'`);
  }
  return n;
}

export function stringOption(values: Parsed['values'], name: string): string | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const text = String(raw);
  if (text === '') throw new UsageError(`--${name} must not be empty`);
  return text;
}

/**
 * Runs `main`; a UsageError prints the usage and exits 2, any other error prints and exits 1.
 * `main` returns the function that stops the program; SIGINT and SIGTERM call it, then exit 0.
 */
export function runProgram(program: string, usage: string, main: () => Promise<() => Promise<void>>): void {
  let stop: (() => Promise<void>) | undefined;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const timer = setTimeout(() => {
      process.stderr.write(`${program}: did not close within 10 s of ${signal}; exiting\n`);
      process.exit(1);
    }, 10_000);
    timer.unref();
    void (stop?.() ?? Promise.resolve()).then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`${program}: error while closing: ${(e as Error)?.stack ?? String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  main().then(
    (s) => {
      stop = s;
      if (stopping) void s().then(() => process.exit(0));
    },
    (e: unknown) => {
      if (e instanceof UsageError) {
        process.stderr.write(`${program}: error: ${e.message}\n${usage}`);
        process.exit(2);
      }
      process.stderr.write(`${program}: ${(e as Error)?.message ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
