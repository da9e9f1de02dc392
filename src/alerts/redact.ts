/**
 * Secret redaction for everything Kairos writes out (logs, alert messages, API errors). Secrets are
 * known strings (webhook URLs, tokens, header values) plus one pattern that needs no registration:
 * the password of a `scheme://user:password@host` URL, which broker and database errors tend to echo.
 */
export const REDACTED = '[redacted]';

/** Shorter strings are not treated as secrets: redacting "a" would mangle every message. */
const MIN_SECRET_LENGTH = 6;

// Bounded quantifiers keep this linear: an unbounded scheme part backtracks quadratically over long
// runs of letters (a 16 KiB payload took seconds per event).
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]{0,31}:\/\/[^\s:/@]{0,256}:)[^\s@/]{1,256}@/gi;

export type Redactor = (text: string) => string;

/**
 * Builds a redactor for `secrets`. For a secret that is a URL, its path-and-query is redacted on its
 * own too (Slack webhook URLs keep their secret in the path, and errors may print only the path).
 */
export function createRedactor(secrets: Iterable<string>): Redactor {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    needles.add(secret);
    try {
      const url = new URL(secret);
      const pathAndQuery = `${url.pathname}${url.search}`;
      if (pathAndQuery.length >= MIN_SECRET_LENGTH) needles.add(pathAndQuery);
      if (url.password.length >= MIN_SECRET_LENGTH) needles.add(url.password);
    } catch {
      // Not a URL: the whole string is the secret.
    }
  }
  // Longest first, so a URL is replaced whole before its path would be.
  const ordered = [...needles].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text.replace(URL_PASSWORD, `$1${REDACTED}@`);
    for (const needle of ordered) out = out.split(needle).join(REDACTED);
    return out;
  };
}

/** Redacts every string inside a JSON-like value (objects, arrays), returning a copy. */
export function redactValue(value: unknown, redact: Redactor, depth = 0): unknown {
  if (typeof value === 'string') return redact(value);
  if (depth > 32 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, redact, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[redact(key)] = redactValue(item, redact, depth + 1);
  return out;
}
