import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { needsLogin, onAuthChange, setToken, getToken } from './api/client';
import type { LiveStatus, LiveStream } from './api/live';
import { Link } from './components/common';
import { LiveContext } from './hooks';
import { ExplainPage } from './pages/explain';
import { FlowPage, FlowsPage } from './pages/flows';
import { OverviewPage } from './pages/overview';
import { QueuePage, QueuesPage } from './pages/queues';
import { RunPage } from './pages/run';
import { RunsPage } from './pages/runs';
import { SchedulesPage } from './pages/schedules';
import { WorkflowPage, WorkflowsPage } from './pages/workflows';
import { matchPath, useLocation } from './router';

interface RouteEntry {
  pattern: string;
  /** The nav item this page belongs to. */
  nav: string;
  render: (params: Record<string, string>, query: URLSearchParams) => JSX.Element;
}

const ROUTES: readonly RouteEntry[] = [
  { pattern: '/', nav: '/', render: () => <OverviewPage /> },
  { pattern: '/schedules', nav: '/schedules', render: () => <SchedulesPage /> },
  { pattern: '/flows', nav: '/flows', render: () => <FlowsPage /> },
  { pattern: '/flows/:name', nav: '/flows', render: (p) => <FlowPage name={p.name ?? ''} /> },
  { pattern: '/runs', nav: '/runs', render: (_p, q) => <RunsPage query={q} /> },
  { pattern: '/runs/:id', nav: '/runs', render: (p) => <RunPage id={p.id ?? ''} /> },
  { pattern: '/workflows', nav: '/workflows', render: () => <WorkflowsPage /> },
  { pattern: '/workflows/:name', nav: '/workflows', render: (p) => <WorkflowPage name={p.name ?? ''} /> },
  { pattern: '/queues', nav: '/queues', render: () => <QueuesPage /> },
  { pattern: '/queues/:queue', nav: '/queues', render: (p, q) => <QueuePage queue={p.queue ?? ''} provider={q.get('provider')} /> },
  { pattern: '/explain', nav: '/explain', render: () => <ExplainPage /> },
];

const NAV: readonly { href: string; label: string }[] = [
  { href: '/', label: 'Overview' },
  { href: '/schedules', label: 'Schedules' },
  { href: '/flows', label: 'Flows' },
  { href: '/runs', label: 'Runs' },
  { href: '/workflows', label: 'Workflows' },
  { href: '/queues', label: 'Queues' },
  { href: '/explain', label: 'Explain' },
];

export function App(props: { live: LiveStream }): JSX.Element {
  const { path, query } = useLocation();
  const [loginOpen, setLoginOpen] = useState(needsLogin());
  const [liveStatus, setLiveStatus] = useState<LiveStatus>(props.live.status);

  useEffect(() => onAuthChange(() => setLoginOpen(needsLogin())), []);
  useEffect(() => {
    const off = props.live.onStatus(setLiveStatus);
    // The stream may have connected before this effect ran.
    setLiveStatus(props.live.status);
    return off;
  }, [props.live]);

  let page: JSX.Element = <NotFound path={path} />;
  let nav = '';
  for (const route of ROUTES) {
    const params = matchPath(route.pattern, path);
    if (params !== null) {
      page = route.render(params, query);
      nav = route.nav;
      break;
    }
  }

  return (
    <LiveContext.Provider value={props.live}>
      <div class="shell">
        <header class="topbar">
          <Link href="/" class="brand">
            <span class="brand-mark" aria-hidden="true" />
            Kairos
          </Link>
          <nav aria-label="Main">
            {NAV.map((item) => (
              <Link key={item.href} href={item.href} class={item.href === nav ? 'active' : undefined}>
                {item.label}
              </Link>
            ))}
          </nav>
          <div class="topbar-right">
            <span class={`live live-${liveStatus}`} title="Live updates from /api/events/stream" data-live={liveStatus}>
              {liveStatus === 'live' ? 'live' : liveStatus === 'connecting' ? 'connecting' : 'offline'}
            </span>
            {getToken() !== null && (
              <button type="button" class="btn btn-plain btn-small" onClick={() => setToken(null)}>
                Sign out
              </button>
            )}
          </div>
        </header>
        {loginOpen && <LoginBox onDone={() => props.live.restart()} />}
        <main class="content">{page}</main>
      </div>
    </LiveContext.Provider>
  );
}

function LoginBox(props: { onDone: () => void }): JSX.Element {
  const [token, setTokenText] = useState('');
  return (
    <form
      class="login card"
      onSubmit={(e) => {
        e.preventDefault();
        if (token.trim() === '') return;
        setToken(token.trim());
        props.onDone();
        // Every page refetches with the new token.
        location.reload();
      }}
    >
      <h2>Sign in</h2>
      <p>This Kairos server needs an API token (viewer to look, operator to act). It is kept for this tab only.</p>
      <label>
        API token
        <input type="password" autocomplete="off" value={token} onInput={(e) => setTokenText(e.currentTarget.value)} name="token" />
      </label>
      <button type="submit" class="btn btn-primary">
        Sign in
      </button>
    </form>
  );
}

function NotFound(props: { path: string }): JSX.Element {
  return (
    <div class="card">
      <h1>Not found</h1>
      <p>
        No page at <code>{props.path}</code>. <Link href="/">Go to the overview</Link>.
      </p>
    </div>
  );
}
