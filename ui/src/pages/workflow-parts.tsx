import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, seg } from '../api/client';
import type { EmitResult, StepRecord, TimelineEntry } from '../api/types';
import { ActionResult, Empty, Link, RelTime, Section, StateBadge, cssName, formatMs, formatTime, parseJsonField } from '../components/common';
import { useAction } from '../hooks';

/** Pieces of the workflow pages: the step timeline and the event and signal forms. */

const KIND_ICON: Record<string, string> = { step: '■', task: '■', sleep: '◔', event: '✉', signal: '⚑', child: '⎇', now: '•', random: '•' };

/**
 * A workflow's history in order: steps, durable sleeps (with when they wake), event waits and
 * signals, each with its state and time. Steps are discovered as the workflow runs, so this grows.
 */
export function Timeline(props: { steps: readonly StepRecord[]; events: readonly TimelineEntry[]; nowMs: number }): JSX.Element {
  const items = [...props.steps].sort((a, b) => (a.startedMs ?? a.endedMs ?? Infinity) - (b.startedMs ?? b.endedMs ?? Infinity));
  const received = props.events.filter((e) => e.type === 'event' || e.type === 'signal');
  if (items.length === 0 && received.length === 0) return <Empty>No steps yet.</Empty>;
  return (
    <ol class="timeline">
      {items.map((step) => {
        const when = step.startedMs ?? step.endedMs;
        return (
          <li key={step.key} class={`tl-item tl-${cssName(step.kind)} state-border-${cssName(step.state)}`} data-step={step.key} data-state={step.state}>
            <span class="tl-icon" aria-hidden="true">
              {KIND_ICON[step.kind] ?? '•'}
            </span>
            <div class="tl-body">
              <div class="tl-head">
                <span class="tl-kind">{step.kind}</span> <span class="tl-key">{step.key}</span> <StateBadge state={step.state} />
                {step.attempt > 1 && <span class="tag">attempt {step.attempt}</span>}
              </div>
              <div class="tl-meta muted">
                {formatTime(when)}
                {step.startedMs !== null && step.endedMs !== null && ` · took ${formatMs(step.endedMs - step.startedMs)}`}
                {step.wakeMs != null && step.endedMs === null && (
                  <>
                    {' · wakes '}
                    <RelTime ms={step.wakeMs} now={props.nowMs} />
                  </>
                )}
              </div>
              {step.error != null && <div class="tl-error">{`${step.error.name}: ${step.error.message}`}</div>}
            </div>
          </li>
        );
      })}
      {received.map((e) => (
        <li key={`e${e.id}`} class={`tl-item tl-${cssName(e.type)}`}>
          <span class="tl-icon" aria-hidden="true">
            {KIND_ICON[e.type] ?? '•'}
          </span>
          <div class="tl-body">
            <div class="tl-head">
              <span class="tl-kind">{e.type} received</span> <span class="tl-key">{e.message ?? ''}</span>
            </div>
            <div class="tl-meta muted">{formatTime(e.atMs)}</div>
          </div>
        </li>
      ))}
    </ol>
  );
}

/** POST /api/events: emits a named event with a JSON payload (starts or wakes workflows). */
export function SendEventForm(props: { defaultName?: string; onSent?: () => void }): JSX.Element {
  const [name, setName] = useState(props.defaultName ?? '');
  const [sent, setSent] = useState<EmitResult | null>(null);
  const [payload, setPayload] = useState('{}');
  const [formError, setFormError] = useState<string | null>(null);
  const action = useAction();
  return (
    <Section title="Send event">
      <form
        class="form"
        name="send-event"
        onSubmit={(e) => {
          e.preventDefault();
          const parsed = parseJsonField(payload, 'payload');
          if (name.trim() === '') return setFormError('name: enter the event name.');
          if (!parsed.ok) return setFormError(parsed.error);
          setFormError(null);
          action.run(async () => {
            const result = await api<EmitResult>('/api/events', { method: 'POST', body: { name: name.trim(), payload: parsed.value ?? {} } });
            setSent(result);
            props.onSent?.();
          }, 'Event sent.');
        }}
      >
        <label>
          Event name
          <input name="event-name" value={name} placeholder="drift.detected" onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Payload (JSON)
          <textarea name="event-payload" rows={4} spellcheck={false} value={payload} onInput={(e) => setPayload(e.currentTarget.value)} />
        </label>
        {formError !== null && <div class="action-error">{formError}</div>}
        <div class="row">
          <button type="submit" class="btn btn-primary" disabled={action.busy}>
            {action.busy ? 'Sending…' : 'Send event'}
          </button>
          <ActionResult error={action.error} message={action.message} />
        </div>
      </form>
      {sent !== null && (
        <div class="emit-result" data-event-id={sent.eventId}>
          {sent.started.length === 0 && sent.delivered === 0 && <p class="muted small">No deployment listens for this event and no run waits for it.</p>}
          {sent.delivered > 0 && <p class="small">Delivered to {sent.delivered} waiting run(s).</p>}
          {sent.started.map((s) => (
            <div key={s.deployment} class="small">
              {s.deployment}: <StateBadge state={s.state} />{' '}
              {s.runId !== null && (
                <Link href={`/runs/${seg(s.runId)}`} class="mono">
                  {s.runId}
                </Link>
              )}
            </div>
          ))}
        </div>
      )}
    </Section>
  );
}

/** POST /api/runs/:id/signals: delivers a signal to one running workflow. */
export function SendSignalForm(props: { runId: string; onSent?: () => void }): JSX.Element {
  const [name, setName] = useState('');
  const [payload, setPayload] = useState('{}');
  const [formError, setFormError] = useState<string | null>(null);
  const action = useAction();
  return (
    <Section title="Send signal">
      <form
        class="form"
        name="send-signal"
        onSubmit={(e) => {
          e.preventDefault();
          const parsed = parseJsonField(payload, 'payload');
          if (name.trim() === '') return setFormError('name: enter the signal name.');
          if (!parsed.ok) return setFormError(parsed.error);
          setFormError(null);
          action.run(async () => {
            await api(`/api/runs/${seg(props.runId)}/signals`, { method: 'POST', body: { name: name.trim(), payload: parsed.value ?? null } });
            props.onSent?.();
          }, 'Signal sent.');
        }}
      >
        <div class="grid-2">
          <label>
            Signal name
            <input name="signal-name" value={name} placeholder="approve" onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <label>
            Payload (JSON)
            <input name="signal-payload" value={payload} spellcheck={false} onInput={(e) => setPayload(e.currentTarget.value)} />
          </label>
        </div>
        {formError !== null && <div class="action-error">{formError}</div>}
        <div class="row">
          <button type="submit" class="btn btn-primary" disabled={action.busy}>
            {action.busy ? 'Sending…' : 'Send signal'}
          </button>
          <ActionResult error={action.error} message={action.message} />
        </div>
      </form>
    </Section>
  );
}
