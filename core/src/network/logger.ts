/**
 * A pluggable logger. The default is silent. Call sites check the level
 * before building a payload (`if (log.debugEnabled) log.debug(...)`), so a
 * disabled level costs one property read.
 */
export const LogLevel = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevelName = Exclude<keyof typeof LogLevel, 'silent'>;

export interface Logger {
  readonly debugEnabled: boolean;
  readonly infoEnabled: boolean;
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const noop = () => {};

export const silentLogger: Logger = {
  debugEnabled: false,
  infoEnabled: false,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
};

/** A logger writing one JSON line per entry at or above `level` (to stderr by default). */
export function jsonLogger(
  level: keyof typeof LogLevel = 'info',
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Logger {
  const min = LogLevel[level];
  const at =
    (name: LogLevelName) =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (LogLevel[name] < min) return;
      write(JSON.stringify({ time: new Date().toISOString(), level: name, message, ...fields }));
    };
  return {
    debugEnabled: LogLevel.debug >= min,
    infoEnabled: LogLevel.info >= min,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
}
