import { formatDuration } from '../core/duration.js';
import type { AlertKind, NormalizedAlert } from './alert.js';

/**
 * The two message formats: a Slack Block Kit message and the generic webhook JSON. Both are built
 * from an already redacted alert, so neither can leak what the alert did not contain.
 */

/** What one outgoing message says: an alert, or a summary of the repeats the window swallowed. */
export interface AlertMessage {
  alert: NormalizedAlert;
  /** Set on the summary sent when a de-duplication window closes with suppressed repeats. */
  repeats: { count: number; windowMs: number } | null;
  /** Alerts dropped by the global rate limit since the previous message went out. */
  droppedByRateLimit: number;
  /** `${baseUrl}/runs/${runId}`, or null without a run id. */
  runUrl: string | null;
}

const TITLES: Record<AlertKind, { emoji: string; title: string }> = {
  run_failed: { emoji: ':x:', title: 'Run failed' },
  dead_letter: { emoji: ':skull:', title: 'Job dead-lettered' },
  missed_schedule: { emoji: ':alarm_clock:', title: 'Schedule missed' },
  misfit: { emoji: ':warning:', title: 'Lane misfit' },
  threshold_trigger: { emoji: ':chart_with_upwards_trend:', title: 'Threshold crossed' },
};

function clip(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 1)}…`;
}

/** Slack mrkdwn treats &, < and > as control characters (links, mentions); escape them. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A code block whose content cannot close the block early. */
function codeBlock(text: string, maxChars: number): string {
  return `\`\`\`${escapeSlack(clip(text, maxChars)).replace(/```/g, "'''")}\`\`\``;
}

function summaryLine(message: AlertMessage): string | null {
  const parts: string[] = [];
  if (message.repeats !== null) {
    parts.push(`and ${message.repeats.count} more like this in the last ${formatDuration(message.repeats.windowMs)}`);
  }
  if (message.droppedByRateLimit > 0) {
    parts.push(`${message.droppedByRateLimit} other alert${message.droppedByRateLimit === 1 ? '' : 's'} dropped by the rate limit`);
  }
  return parts.length === 0 ? null : parts.join('; ');
}

/** Slack incoming-webhook body: header, fields (what failed, attempt, run), error excerpt, link button. */
export function formatSlackMessage(message: AlertMessage): Record<string, unknown> {
  const { alert } = message;
  const { emoji, title } = TITLES[alert.kind];
  const headline = message.repeats === null ? `${title}: ${alert.subject}` : `${title} (repeating): ${alert.subject}`;
  const fields = [
    { type: 'mrkdwn', text: `*What failed*\n${escapeSlack(clip(alert.subject, 300))} (${alert.lane} lane)` },
    { type: 'mrkdwn', text: `*Kind*\n${alert.kind}` },
  ];
  if (alert.attempt !== null) fields.push({ type: 'mrkdwn', text: `*Attempt*\n${alert.attempt}` });
  if (alert.runId !== null) fields.push({ type: 'mrkdwn', text: `*Run*\n${escapeSlack(clip(alert.runId, 200))}` });
  if (alert.errorClass !== null) fields.push({ type: 'mrkdwn', text: `*Error class*\n${escapeSlack(clip(alert.errorClass, 200))}` });

  const blocks: Record<string, unknown>[] = [
    // Slack caps header text at 150 characters.
    { type: 'header', text: { type: 'plain_text', text: clip(`${emoji} ${headline}`, 150), emoji: true } },
    { type: 'section', fields },
  ];
  if (alert.errorMessage !== null) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Error*\n${codeBlock(alert.errorMessage, 1_500)}` } });
  }
  if (Object.keys(alert.details).length > 0) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Details*\n${codeBlock(JSON.stringify(alert.details, null, 1), 1_000)}` } });
  }
  if (message.runUrl !== null) {
    blocks.push({
      type: 'actions',
      elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open run' }, url: message.runUrl, action_id: 'kairos_open_run' }],
    });
  }
  const summary = summaryLine(message);
  if (summary !== null) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: escapeSlack(summary) }] });

  // `text` is the notification fallback (push notifications, screen readers).
  const text = clip(`${title}: ${alert.subject} (${alert.lane})${alert.errorMessage === null ? '' : ` — ${alert.errorMessage}`}`, 300);
  return { text: escapeSlack(text), blocks };
}

/** The generic webhook body: flat, versioned JSON for any HTTP receiver. */
export function formatWebhookPayload(message: AlertMessage): Record<string, unknown> {
  const { alert } = message;
  return {
    source: 'kairos',
    version: 1,
    kind: alert.kind,
    lane: alert.lane,
    subject: alert.subject,
    runId: alert.runId,
    runUrl: message.runUrl,
    attempt: alert.attempt,
    error: alert.errorClass === null ? null : { class: alert.errorClass, message: alert.errorMessage },
    details: alert.details,
    fingerprint: alert.fingerprint,
    occurredAt: new Date(alert.occurredAtMs).toISOString(),
    repeats: message.repeats,
    droppedByRateLimit: message.droppedByRateLimit,
    summary: summaryLine(message),
  };
}
