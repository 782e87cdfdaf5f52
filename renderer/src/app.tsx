/** The app shell: the engine link, navigation between the screens, and the editor and trust dialogs. */
import { useEffect, useState } from 'react';
import type { EndpointSummary } from '../../main/common/domain.js';
import { useEngine, useTraffic } from './engine-state.js';
import type { Transport } from './transport/types.js';
import { ClientsDialog } from './views/clients.js';
import { EndpointEditor } from './views/editor.js';
import { EndpointsView } from './views/endpoints.js';
import { HealthView } from './views/health.js';
import { TrafficView } from './views/traffic.js';
import { TrustDialog } from './views/trust.js';

const SCREENS = [
  ['endpoints', 'Endpoints'],
  ['traffic', 'Traffic'],
  ['health', 'Health'],
] as const;

type Screen = (typeof SCREENS)[number][0];

/** The hash the tray's "Add endpoint…" opens a window on (APP_VIEWS in main/common/ipc.ts). */
const ADD_ENDPOINT = 'add-endpoint';

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
  useEffect(() => {
    // The tray's "Add endpoint…" on a window already open: it points the window at the hash.
    const on = () => {
      if (location.hash.replace(/^#\/?/, '') !== ADD_ENDPOINT) return;
      setDialog({ kind: 'edit' });
      history.replaceState(null, '', '#/endpoints');
    };
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  const [dialog, setDialog] = useState<Dialog>(() =>
    location.hash.replace(/^#\/?/, '') === ADD_ENDPOINT ? { kind: 'edit' } : undefined,
  );
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
        {screen === 'endpoints' && (
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
