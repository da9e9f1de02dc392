/**
 * The logging interface the library writes to. It matches pino's method shapes, so a pino logger
 * can be passed as is; the default discards everything, because the library never writes to the
 * console on its own.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
