import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api } from '../api/client';
import type { ExplainResult } from '../api/types';
import { ErrorBox, PageHead, Section } from '../components/common';

/** Explain: a task profile in, the decision matrix's lane and reasons out (POST /api/explain). */

interface Profile {
  frequency: string;
  visibility: '' | 'internal' | 'user';
  complexity: '' | 'simple' | 'dag' | 'complex';
  durability: '' | 'ephemeral' | 'persistent';
  infrastructure: '' | 'local' | 'distributed';
  eventTriggered: boolean;
}

const LANE_TEXT: Record<string, string> = {
  local: 'in-process, like APScheduler: fast, lost if the process dies',
  queue: 'durable distributed jobs: at-least-once, retries, dead letters',
  flow: 'a DAG with history and UI, like Prefect or Airflow',
  workflow: 'a durable, event-driven workflow, like Temporal',
};

function Choice<T extends string>(props: { label: string; name: string; value: T; options: readonly [T, string][]; onChange: (value: T) => void }): JSX.Element {
  return (
    <label>
      {props.label}
      <select name={props.name} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value as T)}>
        {props.options.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

export function ExplainPage(): JSX.Element {
  const [profile, setProfile] = useState<Profile>({ frequency: '30s', visibility: '', complexity: '', durability: '', infrastructure: '', eventTriggered: false });
  const [result, setResult] = useState<ExplainResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = <K extends keyof Profile>(key: K, value: Profile[K]): void => setProfile((p) => ({ ...p, [key]: value }));

  const submit = (e: Event): void => {
    e.preventDefault();
    const body: Record<string, unknown> = { frequency: profile.frequency.trim() };
    if (profile.visibility !== '') body.visibility = profile.visibility;
    if (profile.complexity !== '') body.complexity = profile.complexity;
    if (profile.durability !== '') body.durability = profile.durability;
    if (profile.infrastructure !== '') body.infrastructure = profile.infrastructure;
    if (profile.eventTriggered) body.eventTriggered = true;
    setBusy(true);
    setError(null);
    api<ExplainResult>('/api/explain', { method: 'POST', body }).then(
      (r) => {
        setResult(r);
        setBusy(false);
      },
      (err: unknown) => {
        setError(err);
        setResult(null);
        setBusy(false);
      },
    );
  };

  return (
    <div>
      <PageHead title="Explain" subtitle="Describe a job; Kairos picks its lane with the decision matrix and says why." />
      <div class="grid-2">
        <Section title="Task profile">
          <form class="form" onSubmit={submit} name="explain">
            <label>
              Frequency
              <input name="frequency" value={profile.frequency} placeholder="30s, 1h, daily, adhoc" onInput={(e) => set('frequency', e.currentTarget.value)} />
            </label>
            <Choice label="Who sees it" name="visibility" value={profile.visibility} onChange={(v) => set('visibility', v)} options={[['', 'not set'], ['internal', 'internal only'], ['user', 'user-visible']]} />
            <Choice label="Shape" name="complexity" value={profile.complexity} onChange={(v) => set('complexity', v)} options={[['', 'not set'], ['simple', 'one step'], ['dag', 'several steps (DAG)'], ['complex', 'complex']]} />
            <Choice label="Durability" name="durability" value={profile.durability} onChange={(v) => set('durability', v)} options={[['', 'not set'], ['ephemeral', 'may be lost on a crash'], ['persistent', 'must survive restarts']]} />
            <Choice label="Where it runs" name="infrastructure" value={profile.infrastructure} onChange={(v) => set('infrastructure', v)} options={[['', 'not set'], ['local', 'this process'], ['distributed', 'several machines']]} />
            <label class="check">
              <input type="checkbox" name="eventTriggered" checked={profile.eventTriggered} onChange={(e) => set('eventTriggered', e.currentTarget.checked)} />
              Started by an event and long-running
            </label>
            <div>
              <button type="submit" class="btn btn-primary" disabled={busy}>
                {busy ? 'Explaining…' : 'Explain'}
              </button>
            </div>
          </form>
        </Section>
        <Section title="Lane">
          <ErrorBox error={error} />
          {result === null && error === null && <p class="muted">Fill in the profile and press Explain.</p>}
          {result !== null && (
            <div class="explain-result" data-lane={result.lane}>
              <div class={`lane-pill lane-${result.lane}`}>{result.lane}</div>
              <p class="muted">{LANE_TEXT[result.lane] ?? ''}</p>
              <ol class="reasons">
                {result.reasons.map((reason, i) => (
                  <li key={i}>{reason}</li>
                ))}
              </ol>
            </div>
          )}
        </Section>
      </div>
    </div>
  );
}
