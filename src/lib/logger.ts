import pino, { type Logger } from 'pino';
import type { LogLevel } from '../config.ts';
import { REDACT_PATHS } from './redact.ts';

export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { pid: process.pid } }, destination);
}
