// The logging surface the key service needs; pino's logger fits it. Never pass keys, secrets,
// tokens or message contents: sizes, epochs, room ids and user ids only.
export interface Logger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
