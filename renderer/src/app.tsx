/** The app shell: the engine link, navigation between the screens, and the editor and trust dialogs. */
import { useEffect, useState } from 'react';
import type { EndpointSummary } from '../../main/common/domain.js';
import { APP_VIEWS } from '../../main/common/ipc.js';
import { useEngine, useTraffic } from './engine-state.js';
import type { Transport } from './transport/types.js';
import { ClientsDialog } from './views/clients.js';
import { EndpointEditor } from './views/editor.js';
import { EndpointsView } from './views/endpoints.js';
import { HealthView } from './views/health.js';
import { TrafficView } from './views/traffic.js';
import { TrustDialog } from './views/trust.js';
import { WelcomeView } from './views/welcome.js';

const SCREENS = [
  ['endpoints', 'Endpoints'],
  ['traffic', 'Traffic'],
  ['health', 'Health'],
] as const;

type Screen = (typeof SCREENS)[number][0];

/** The hash the tray's "Add endpoint…" opens a window on (APP_VIEWS in main/common/ipc.ts). */
const ADD_ENDPOINT = 'add-endpoint';
/** The hash the tray's "Try the demo" opens a window on: the welcome screen, running the demo. */
const TRY_DEMO = APP_VIEWS.tryDemo;

function screenOf(hash: string): Screen {
  const s = hash.replace(/^#\/?/, '');
  return SCREENS.some(([id]) => id === s) ? (s as Screen) : 'endpoints';
}

/** The screen named by the URL's hash (`#/traffic`), following changes. */
function useScreen(): [Screen, (s: Screen) => void] {
  const [screen, setScreen] = useState(() => screenOf(location.hash));
  useEffect(() => {
    const on = () => setScreen(screenOf(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return [screen, (s) => (location.hash = `#/${s}`)];
}

type Dialog =
  | { kind: 'edit'; endpoint?: EndpointSummary }
  | { kind: 'trust'; endpoint: EndpointSummary }
  | { kind: 'clients'; endpoint: EndpointSummary }
  | undefined;

/** See the module comment. */
export function App({ transport }: { transport: Transport }) {
  const state = useEngine(transport);
  const traffic = useTraffic(transport);
  const [screen, go] = useScreen();
  // The welcome screen stays up while the demo it started runs and shows its steps.
  const [stayOnWelcome, setStayOnWelcome] = useState(false);
  const [demoRequest, setDemoRequest] = useState(() => location.hash.replace(/^#\/?/, '') === TRY_DEMO);
  useEffect(() => {
    if (demoRequest) history.replaceState(null, '', '#/endpoints');
  }, [demoRequest]);
  // With no endpoints, the window opens on the welcome screen, whichever screen it was opened on.
  const [welcomed, setWelcomed] = useState(false);
  useEffect(() => {
    if (!state.loaded || welcomed) return;
    setWelcomed(true);
    if (state.endpoints.length === 0 && screen !== 'endpoints') go('endpoints');
  }, [state.loaded, state.endpoints.length, welcomed, screen, go]);
  useEffect(() => {
    // The tray's "Add endpoint…" or "Try the demo" on a window already open: it points the window at the hash.
    const on = () => {
      const view = location.hash.replace(/^#\/?/, '');
      if (view === TRY_DEMO) {
        setDemoRequest(true);
        history.replaceState(null, '', '#/endpoints');
        return;
      }
      if (view !== ADD_ENDPOINT) return;
      setDialog({ kind: 'edit' });
      history.replaceState(null, '', '#/endpoints');
    };
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  const [dialog, setDialog] = useState<Dialog>(() =>
    location.hash.replace(/^#\/?/, '') === ADD_ENDPOINT ? { kind: 'edit' } : undefined,
  );
  const welcome =
    screen === 'endpoints' && state.loaded && (state.endpoints.length === 0 || stayOnWelcome || demoRequest);
  const counts = state.endpoints.reduce(
    (acc, e) => {
      if (e.status.state === 'ready') acc.ready++;
      else if (e.status.state !== 'idle') acc.trouble++;
      return acc;
    },
    { ready: 0, trouble: 0 },
  );

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden="true" />
          MCP Tether
        </div>
        <nav aria-label="Screens">
          {SCREENS.map(([id, label]) => (
            <a
              key={id}
              href={`#/${id}`}
              className={screen === id ? 'active' : ''}
              aria-current={screen === id ? 'page' : undefined}
              onClick={(e) => {
                e.preventDefault();
                go(id);
              }}
            >
              {label}
              {id === 'endpoints' && state.endpoints.length > 0 && (
                <span className="pill">{state.endpoints.length}</span>
              )}
            </a>
          ))}
        </nav>
        <span className="grow" />
        <div className={`link link-${state.link}`} role="status" data-testid="link">
          <span className="dot" aria-hidden="true" />
          {state.link === 'open'
            ? `${transport.kind === 'demo' ? 'demo' : 'engine'}${state.engine ? ` ${state.engine.version}` : ''} · ${counts.ready}/${state.endpoints.length} ready`
            : state.link === 'connecting'
              ? 'connecting to the engine…'
              : 'engine unreachable: retrying'}
        </div>
      </header>
      {state.error && state.link === 'open' && (
        <div className="banner" role="alert">
          {state.error}
        </div>
      )}
      <main>
        {welcome && (
          <WelcomeView
            transport={transport}
            endpointCount={state.endpoints.length}
            autoStart={demoRequest}
            onDemoStarted={() => {
              setStayOnWelcome(true);
              setDemoRequest(false);
            }}
            onAdd={() => setDialog({ kind: 'edit' })}
            onSetUpDemo={() => {
              const demo = state.endpoints.find((e) => e.name === 'demo');
              if (demo) setDialog({ kind: 'clients', endpoint: demo });
            }}
            onShowTraffic={() => {
              setStayOnWelcome(false);
              go('traffic');
            }}
            onDone={() => setStayOnWelcome(false)}
            reload={state.reload}
          />
        )}
        {screen === 'endpoints' && !welcome && (
          <EndpointsView
            transport={transport}
            endpoints={state.endpoints}
            loaded={state.loaded}
            reload={state.reload}
            onAdd={() => setDialog({ kind: 'edit' })}
            onEdit={(endpoint) => setDialog({ kind: 'edit', endpoint })}
            onTrust={(endpoint) => setDialog({ kind: 'trust', endpoint })}
            onSetUp={(endpoint) => setDialog({ kind: 'clients', endpoint })}
          />
        )}
        {screen === 'traffic' && (
          <TrafficView store={traffic} endpoints={state.endpoints.map((e) => e.name)} />
        )}
        {screen === 'health' && (
          <HealthView endpoints={state.endpoints} engine={state.engine} transport={transport} />
        )}
      </main>
      {dialog?.kind === 'edit' && (
        <EndpointEditor
          transport={transport}
          {...(dialog.endpoint ? { existing: dialog.endpoint } : {})}
          onClose={() => setDialog(undefined)}
          onSaved={(saved, next) => {
            void state.reload();
            if (next.trust) setDialog({ kind: 'trust', endpoint: saved });
          }}
        />
      )}
      {dialog?.kind === 'clients' && (
        <ClientsDialog
          transport={transport}
          endpoint={dialog.endpoint}
          onClose={() => setDialog(undefined)}
        />
      )}
      {dialog?.kind === 'trust' && (
        <TrustDialog transport={transport} endpoint={dialog.endpoint} onClose={() => setDialog(undefined)} />
      )}
    </div>
  );
}
