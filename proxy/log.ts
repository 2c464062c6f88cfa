// One pino logger for the process. LEAKSCOPE_LOG sets the level ("silent" in tests).
import pino from 'pino';

export const log = pino({
  level: process.env.LEAKSCOPE_LOG ?? 'info',
  base: undefined,
});
