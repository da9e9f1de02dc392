import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { ConfigError, ForbiddenError, UnauthorizedError } from '../errors.js';
import { Role, roleAllows, type AuthContext, type RouteAccess } from './route.js';

/**
 * Bearer-token authentication with roles.
 *
 * Tokens are kept only as SHA-256 digests, and a presented token is compared with every digest in
 * constant time (no early exit), so neither memory dumps nor response timing reveal a token. The
 * presented token is never logged or echoed.
 *
 * Anonymous access exists for `kairos dev` only: the server must be bound to a loopback address AND
 * `allowAnonymousLoopback` set. Even then a request whose Host header is not a loopback name is
 * refused, which stops DNS-rebinding pages from reaching the dev server through a browser. There is
 * no cookie auth at all, so cross-site requests carry no credentials and need no CSRF tokens.
 */

export interface TokenConfig {
  /** The bearer token (a secret; at least 16 characters, no whitespace). */
  token: string;
  role: Role;
  /** Shown in logs and audit instead of the token. Default `token[i]`. */
  name?: string;
}

export interface AuthOptions {
  /** Accepted tokens. Default none. */
  tokens?: readonly TokenConfig[];
  /** Let requests without a token in as `admin` when the server listens on loopback only. Default false. */
  allowAnonymousLoopback?: boolean;
}

const MIN_TOKEN_LENGTH = 16;
const ROLES: readonly string[] = Object.values(Role);

interface StoredToken {
  digest: Buffer;
  role: Role;
  name: string;
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** True for 127.0.0.0/8, ::1 and `localhost`: addresses no other machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (bare === '::1' || bare === '::ffff:127.0.0.1') return true;
  return false;
}

/** The hostname part of a Host header (`[::1]:8080` → `::1`). */
function hostHeaderName(host: string | undefined): string | null {
  if (host === undefined) return null;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? null : host.slice(1, end);
  }
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

export interface Authenticator {
  /** Whether requests without a token are let in (loopback dev mode). */
  readonly anonymousAllowed: boolean;
  /** Who is calling, or throws UnauthorizedError / ForbiddenError for this route's access level. */
  authorize(access: RouteAccess, headers: { authorization?: string; host?: string }): AuthContext;
  /** Secrets to redact from logs and responses. */
  readonly secrets: readonly string[];
}

export function createAuthenticator(options: AuthOptions, boundHost: string): Authenticator {
  const tokens: StoredToken[] = [];
  const seen = new Set<string>();
  (options.tokens ?? []).forEach((config, i) => {
    const field = `auth.tokens[${i}]`;
    // Messages name the field and never include the token.
    if (typeof config.token !== 'string' || config.token.length < MIN_TOKEN_LENGTH || /\s/.test(config.token)) {
      throw new ConfigError(`${field}.token: expected at least ${MIN_TOKEN_LENGTH} characters without whitespace (e.g. \`openssl rand -hex 32\`).`, {
        details: { field: `${field}.token` },
      });
    }
    if (!ROLES.includes(config.role)) {
      throw new ConfigError(`${field}.role: expected one of ${ROLES.join(' | ')}.`, { details: { field: `${field}.role` } });
    }
    if (seen.has(config.token)) throw new ConfigError(`${field}.token: the same token is listed twice.`, { details: { field: `${field}.token` } });
    seen.add(config.token);
    tokens.push({ digest: digest(config.token), role: config.role, name: config.name ?? `token[${i}]` });
  });

  const anonymousAllowed = options.allowAnonymousLoopback === true && isLoopbackHost(boundHost);
  if (tokens.length === 0 && !anonymousAllowed) {
    throw new ConfigError(
      options.allowAnonymousLoopback === true
        ? `auth: anonymous access is only allowed when listening on loopback, and host is '${boundHost}'. Add auth.tokens or listen on 127.0.0.1.`
        : 'auth.tokens: no tokens configured, so every request would be refused. Add a token, or set allowAnonymousLoopback for local development.',
      { details: { field: 'auth.tokens' } },
    );
  }

  function findToken(presented: string): StoredToken | null {
    const presentedDigest = digest(presented);
    let match: StoredToken | null = null;
    for (const stored of tokens) {
      // Every digest is compared, so the time taken does not depend on which one matches.
      if (timingSafeEqual(stored.digest, presentedDigest)) match = stored;
    }
    return match;
  }

  return {
    anonymousAllowed,
    secrets: (options.tokens ?? []).map((t) => t.token),
    authorize(access, headers) {
      if (access === 'public') return { role: 'viewer', principal: 'public', anonymous: true };
      let context: AuthContext | null = null;
      const header = headers.authorization;
      if (header !== undefined) {
        const match = /^Bearer +(\S+) *$/i.exec(header);
        const stored = match?.[1] === undefined ? null : findToken(match[1]);
        if (stored === null) throw new UnauthorizedError('The bearer token is missing, malformed or not recognised.');
        context = { role: stored.role, principal: stored.name, anonymous: false };
      } else if (anonymousAllowed) {
        const hostName = hostHeaderName(headers.host);
        if (hostName === null || !isLoopbackHost(hostName)) {
          throw new UnauthorizedError('Anonymous access is only for requests addressed to a loopback host name; send a bearer token.');
        }
        context = { role: 'admin', principal: 'anonymous', anonymous: true };
      } else {
        throw new UnauthorizedError('This route needs a bearer token: send `Authorization: Bearer <token>`.');
      }
      if (!roleAllows(context.role, access)) {
        throw new ForbiddenError(`This route needs the ${access} role; the token has ${context.role}.`, {
          details: { required: access, role: context.role },
        });
      }
      return context;
    },
  };
}
