import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api } from '../api/client';
import { isRunEvent } from '../api/live';
import { RUN_STATES, type RunsPage as RunsAnswer } from '../api/types';
import { ErrorBox, Loading, PageHead, Section } from '../components/common';
import { RunsTable } from '../components/runs-table';
import { useNow, useResource } from '../hooks';
import { navigate } from '../router';

/**
 * Every flow and workflow run, newest first, filtered and paged by the server (`limit` + opaque
 * `cursor`), so the page costs the same with a hundred runs or a million. Filters live in the URL.
 */

const PAGE_SIZE = 50;

export function RunsPage(props: { query: URLSearchParams }): JSX.Element {
  const now = useNow(5_000);
  const kind = props.query.get('kind') ?? '';
  const name = props.query.get('name') ?? '';
  const state = props.query.get('state') ?? '';
  const cursor = props.query.get('cursor') ?? '';
  // Cursors of the pages before this one, for "newer".
  const [history, setHistory] = useState<string[]>([]);
  const firstPage = cursor === '';
  const runs = useResource(
    (signal) => api<RunsAnswer>('/api/runs', { query: { kind, name, state, limit: PAGE_SIZE, cursor }, signal }),
    [kind, name, state, cursor],
    // Only the first page follows live changes; older pages stay put while you read them.
    firstPage ? { liveWhen: isRunEvent } : {},
  );

  const go = (changes: Record<string, string>): void => {
    const params = new URLSearchParams(props.query);
    for (const [key, value] of Object.entries(changes)) {
      if (value === '') params.delete(key);
      else params.set(key, value);
    }
    const text = params.toString();
    navigate(text === '' ? '/runs' : `/runs?${text}`);
  };
  const setFilter = (key: string, value: string): void => {
    setHistory([]);
    go({ [key]: value, cursor: '' });
  };

  return (
    <div>
      <PageHead title="Runs" subtitle="Flow and workflow runs, newest first." />
      <Section
        title="Runs"
        actions={
          <form class="filters" onSubmit={(e) => e.preventDefault()} name="run-filters">
            <select name="kind" value={kind} onChange={(e) => setFilter('kind', e.currentTarget.value)} aria-label="kind">
              <option value="">all kinds</option>
              <option value="flow">flows</option>
              <option value="workflow">workflows</option>
            </select>
            <select name="state" value={state} onChange={(e) => setFilter('state', e.currentTarget.value)} aria-label="state">
              <option value="">all states</option>
              {RUN_STATES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
            <input name="name" placeholder="name" value={name} onChange={(e) => setFilter('name', e.currentTarget.value.trim())} aria-label="name" />
          </form>
        }
      >
        <ErrorBox error={runs.error} />
        {runs.data === undefined ? runs.error === null && <Loading what="runs" /> : <RunsTable runs={runs.data.runs} now={now} />}
        <div class="pager">
          <button
            type="button"
            class="btn btn-plain"
            disabled={firstPage}
            onClick={() => {
              const previous = history.slice(0, -1);
              const back = history[history.length - 1] ?? '';
              setHistory(previous);
              go({ cursor: back });
            }}
          >
            ← Newer
          </button>
          <span class="muted">{runs.data === undefined ? '' : `${runs.data.runs.length} shown`}</span>
          <button
            type="button"
            class="btn btn-plain"
            disabled={runs.data?.nextCursor == null}
            onClick={() => {
              const next = runs.data?.nextCursor;
              if (next == null) return;
              setHistory([...history, cursor]);
              go({ cursor: next });
            }}
          >
            Older →
          </button>
        </div>
      </Section>
    </div>
  );
}
