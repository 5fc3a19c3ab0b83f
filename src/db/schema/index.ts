export * from './accounts.ts';
export * from './surveys.ts';
export * from './respondents.ts';
export * from './records.ts';
export * from './events.ts';
export * from './inbound.ts';
export * from './panel.ts';
