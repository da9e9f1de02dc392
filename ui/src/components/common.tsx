import type { ComponentChildren, JSX } from 'preact';
import { describeError } from '../api/client';
import { onLinkClick } from '../router';

/**
 * Small building blocks shared by the pages. Every value from the API is rendered as a text child,
 * which Preact escapes; nothing here sets HTML from data.
 */

export function Link(props: { href: string; children: ComponentChildren; class?: string; title?: string }): JSX.Element {
  return (
    <a href={props.href} class={props.class} title={props.title} onClick={(e) => onLinkClick(e, props.href)}>
      {props.children}
    </a>
  );
}

/** A state as a coloured pill; colours come from `.state-<Name>` classes in styles.css. */
export function StateBadge(props: { state: string | null | undefined }): JSX.Element {
  const state = props.state ?? 'Unknown';
  return <span class={`badge state-${cssName(state)}`} data-state={state}>{state}</span>;
}

/** Only letters reach a class name, so a state from the API cannot inject other classes. */
export function cssName(state: string): string {
  return state.replace(/[^A-Za-z]/g, '') || 'Unknown';
}

export function formatMs(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1_000) return `${Math.round(ms)} ms`;
  if (abs < 60_000) return `${(ms / 1_000).toFixed(abs < 10_000 ? 2 : 1)} s`;
  if (abs < 3_600_000) return `${Math.floor(ms / 60_000)}m ${Math.round((abs % 60_000) / 1_000)}s`;
  if (abs < 86_400_000) return `${Math.floor(ms / 3_600_000)}h ${Math.round((abs % 3_600_000) / 60_000)}m`;
  return `${Math.floor(ms / 86_400_000)}d ${Math.round((abs % 86_400_000) / 3_600_000)}h`;
}

export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  const time = d.toLocaleTimeString(undefined, { hour12: false });
  return sameDay ? time : `${d.toLocaleDateString()} ${time}`;
}

/** "in 4.2 s" / "3m 2s ago", with the absolute time on hover. */
export function RelTime(props: { ms: number | null | undefined; now?: number }): JSX.Element {
  if (props.ms === null || props.ms === undefined) return <span class="muted">—</span>;
  const delta = props.ms - (props.now ?? Date.now());
  const text = Math.abs(delta) < 500 ? 'now' : delta > 0 ? `in ${formatMs(delta)}` : `${formatMs(-delta)} ago`;
  return <time dateTime={new Date(props.ms).toISOString()} title={new Date(props.ms).toISOString()}>{text}</time>;
}

export function duration(startMs: number | null | undefined, endMs: number | null | undefined, nowMs = Date.now()): string {
  if (startMs === null || startMs === undefined) return '—';
  return formatMs((endMs ?? nowMs) - startMs);
}

/** Any JSON value, pretty-printed as text. */
export function Json(props: { value: unknown; empty?: string }): JSX.Element {
  if (props.value === undefined || props.value === null) return <span class="muted">{props.empty ?? 'none'}</span>;
  let text: string;
  try {
    text = typeof props.value === 'string' ? props.value : JSON.stringify(props.value, null, 2);
  } catch {
    // A cycle or a BigInt: say so rather than print [object Object].
    text = '(not representable as JSON)';
  }
  return <pre class="json">{text}</pre>;
}

export function ErrorBox(props: { error: unknown; title?: string }): JSX.Element | null {
  if (props.error === null || props.error === undefined) return null;
  return (
    <div class="error-box" role="alert">
      {props.title !== undefined && <strong>{props.title}: </strong>}
      {describeError(props.error)}
    </div>
  );
}

export function Loading(props: { what?: string }): JSX.Element {
  return <div class="loading">Loading{props.what === undefined ? '' : ` ${props.what}`}…</div>;
}

export function Empty(props: { children: ComponentChildren }): JSX.Element {
  return <div class="empty">{props.children}</div>;
}

export function Section(props: { title: string; actions?: ComponentChildren; children: ComponentChildren; id?: string }): JSX.Element {
  return (
    <section class="card" id={props.id}>
      <header class="card-head">
        <h2>{props.title}</h2>
        {props.actions !== undefined && <div class="actions">{props.actions}</div>}
      </header>
      {props.children}
    </section>
  );
}

export function PageHead(props: { title: string; subtitle?: ComponentChildren; actions?: ComponentChildren }): JSX.Element {
  return (
    <div class="page-head">
      <div>
        <h1>{props.title}</h1>
        {props.subtitle !== undefined && <div class="subtitle">{props.subtitle}</div>}
      </div>
      {props.actions !== undefined && <div class="actions">{props.actions}</div>}
    </div>
  );
}

export function Stat(props: { label: string; value: ComponentChildren; tone?: 'bad' | 'warn' | 'good' | undefined; href?: string }): JSX.Element {
  const body = (
    <>
      <div class="stat-value">{props.value}</div>
      <div class="stat-label">{props.label}</div>
    </>
  );
  return (
    <div class={`stat${props.tone === undefined ? '' : ` tone-${props.tone}`}`}>
      {props.href === undefined ? body : <Link href={props.href}>{body}</Link>}
    </div>
  );
}

/** A button that runs an async action, shows it is busy, and reports the outcome beside it. */
export function ActionButton(props: {
  label: string;
  onClick: () => void;
  busy?: boolean;
  kind?: 'primary' | 'danger' | 'plain';
  title?: string;
  disabled?: boolean;
}): JSX.Element {
  return (
    <button type="button" class={`btn btn-${props.kind ?? 'plain'}`} disabled={props.busy === true || props.disabled === true} title={props.title} onClick={props.onClick}>
      {props.busy === true ? `${props.label}…` : props.label}
    </button>
  );
}

export function ActionResult(props: { error: unknown; message: string | null }): JSX.Element | null {
  if (props.error !== null && props.error !== undefined) return <span class="action-error" role="alert">{describeError(props.error)}</span>;
  if (props.message !== null) return <span class="action-ok" role="status">{props.message}</span>;
  return null;
}

/** Parses a JSON text field from a form; returns an error message instead of throwing. */
export function parseJsonField(text: string, field: string): { ok: true; value: unknown } | { ok: false; error: string } {
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, error: `${field}: not valid JSON (${error instanceof Error ? error.message : String(error)}).` };
  }
}
