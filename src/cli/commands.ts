/**
 * Commands beyond the core ones (sign-link, token, import, export…) register here, each
 * in its own file, so main.ts stays small. A handler returns the exit code.
 */
import { signLinkCommand, verifyLinkCommand } from '../redirects/cli.ts';
import { tokenCommand } from './tokenCommand.ts';
import { exportCommand, importCommand } from './importExport.ts';

export const extraCommands: Record<string, (args: string[]) => Promise<number>> = {
  'sign-link': signLinkCommand,
  'verify-link': verifyLinkCommand,
  token: tokenCommand,
  import: importCommand,
  export: exportCommand,
};
