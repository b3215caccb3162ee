/**
 * A small levelled logger for the distributed servers. Records go to a sink (stderr by default),
 * so tests can silence a logger or capture its records and assert on them.
 *
 * The default level is 'warn', or the DASK_TS_LOG_LEVEL environment variable.
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type RecordLevel = Exclude<LogLevel, 'silent'>;

export interface LogRecord {
  readonly time: Date;
  readonly level: RecordLevel;
  /** Who logged: 'dask-ts.rpc.server' and the like. */
  readonly name: string;
  readonly message: string;
  readonly error?: Error;
}

export type LogSink = (record: LogRecord) => void;

export interface Logger {
  readonly name: string;
  level: LogLevel;
  debug(message: string, error?: unknown): void;
  info(message: string, error?: unknown): void;
  warn(message: string, error?: unknown): void;
  error(message: string, error?: unknown): void;
  /** A logger named `${name}.${suffix}` sharing this one's sink and level (setting either's level sets both). */
  child(suffix: string): Logger;
}

export interface LoggerOptions {
  readonly level?: LogLevel;
  readonly sink?: LogSink;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function createLogger(name: string, options: LoggerOptions = {}): Logger {
  const level = options.level ?? envLevel() ?? 'warn';
  if (!(level in RANK)) throw new TypeError(`unknown log level '${String(level)}'; known: ${LOG_LEVELS.join(', ')}`);
  return new LevelLogger(name, { level }, options.sink ?? stderrSink);
}

/** Writes one line per record (and the error's stack, if any) to stderr. */
export const stderrSink: LogSink = (r) => {
  const line = `${r.time.toISOString()} ${r.level.toUpperCase().padEnd(5)} ${r.name}: ${r.message}`;
  process.stderr.write(r.error?.stack ? `${line}\n${r.error.stack}\n` : `${line}\n`);
};

class LevelLogger implements Logger {
  constructor(
    readonly name: string,
    readonly shared: { level: LogLevel },
    readonly sink: LogSink,
  ) {}

  get level(): LogLevel {
    return this.shared.level;
  }
  set level(level: LogLevel) {
    if (!(level in RANK)) throw new TypeError(`unknown log level '${String(level)}'; known: ${LOG_LEVELS.join(', ')}`);
    this.shared.level = level;
  }

  debug(message: string, error?: unknown): void {
    this.#log('debug', message, error);
  }
  info(message: string, error?: unknown): void {
    this.#log('info', message, error);
  }
  warn(message: string, error?: unknown): void {
    this.#log('warn', message, error);
  }
  error(message: string, error?: unknown): void {
    this.#log('error', message, error);
  }

  child(suffix: string): Logger {
    return new LevelLogger(`${this.name}.${suffix}`, this.shared, this.sink);
  }

  #log(level: RecordLevel, message: string, error: unknown): void {
    if (RANK[level] < RANK[this.shared.level]) return;
    const e = error === undefined ? undefined : error instanceof Error ? error : new Error(String(error));
    this.sink({ time: new Date(), level, name: this.name, message, ...(e ? { error: e } : {}) });
  }
}

function envLevel(): LogLevel | undefined {
  const v = process.env.DASK_TS_LOG_LEVEL?.toLowerCase();
  return v && v in RANK ? (v as LogLevel) : undefined;
}
