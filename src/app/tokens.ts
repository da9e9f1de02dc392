import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { Role } from '../server/route.js';
import type { TokenConfig } from '../server/auth.js';

const ROLES: readonly string[] = Object.values(Role);

/**
 * Parses API tokens written as `name:role:token`, separated by commas or newlines (the format of
 * KAIROS_TOKENS and of a token file; `#` starts a comment line). Errors name the entry by position,
 * never by its token.
 */
export function parseTokens(text: string, source: string): TokenConfig[] {
  const entries = text
    .split(/[,\n]/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  return entries.map((entry, i) => {
    const first = entry.indexOf(':');
    const second = entry.indexOf(':', first + 1);
    const name = entry.slice(0, first);
    const role = entry.slice(first + 1, second);
    const token = entry.slice(second + 1);
    if (first <= 0 || second <= first + 1 || token === '') {
      throw new ConfigError(`${source}: entry ${i + 1} is not name:role:token.`, { details: { field: source, entry: i + 1 } });
    }
    if (!ROLES.includes(role)) throw new ConfigError(`${source}: entry ${i + 1} ('${name}') has role '${role}'; use ${ROLES.join(' | ')}.`, { details: { field: source, entry: i + 1 } });
    return { name, role: role as Role, token };
  });
}

/** Tokens from `--token-file` and/or KAIROS_TOKENS (both may be given; they are combined). */
export function loadTokens(options: { tokenFile?: string; env?: NodeJS.ProcessEnv }): TokenConfig[] {
  const env = options.env ?? process.env;
  const tokens: TokenConfig[] = [];
  if (options.tokenFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.tokenFile, 'utf8');
    } catch (cause) {
      throw new ConfigError(`--token-file: cannot read '${options.tokenFile}'.`, { cause, details: { field: 'tokenFile' } });
    }
    tokens.push(...parseTokens(text, '--token-file'));
  }
  if (env.KAIROS_TOKENS !== undefined && env.KAIROS_TOKENS.trim() !== '') tokens.push(...parseTokens(env.KAIROS_TOKENS, 'KAIROS_TOKENS'));
  return tokens;
}
