/**
 * The traffic inspector: every JSON-RPC message and engine event, live. The list is virtualized
 * (only the rows in view are in the DOM), so 100,000 records scroll as smoothly as 100. Filters by
 * endpoint, method, direction and text; pause and resume; a request and its answer shown together
 * with the latency; pretty JSON with copy; export of what the filter shows as JSONL.
 */
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, useState, useSyncExternalStore, type KeyboardEvent } from 'react';
import type { Direction, TrafficRecord } from '../../../main/common/domain.js';
import { CopyButton, JsonView } from '../components/common.js';
import { formatBytes, formatClock, formatLatency } from '../components/format.js';
import { NO_FILTER, type TrafficStore, type TrafficViewFilter } from '../traffic/store.js';

/** Height of one row (px); rows are fixed-height so the virtualizer never measures. */
const ROW_HEIGHT = 26;

const ARROWS: Record<Direction, string> = { 'client-to-server': '→', 'server-to-client': '←' };

/** Saves text as a file through a download link. */
function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Props of {@link TrafficView}. */
export interface TrafficViewProps {
  store: TrafficStore;
  /** Endpoint names for the endpoint filter. */
  endpoints: string[];
}

/** See the module comment. */
export function TrafficView({ store, endpoints }: TrafficViewProps) {
  const version = useSyncExternalStore(store.subscribe, store.getVersion);
  const [filter, setFilter] = useState<TrafficViewFilter>(store.getFilter());
  const [text, setText] = useState(filter.text);
  const [selected, setSelected] = useState<number>();
  const [follow, setFollow] = useState(true);
  const scroller = useRef<HTMLDivElement>(null);
  const count = store.size();

  // The text filter waits for a pause in typing: each change scans every record.
  useEffect(() => {
    const t = setTimeout(() => setFilter((f) => (f.text === text ? f : { ...f, text })), 150);
    return () => clearTimeout(t);
  }, [text]);
  useEffect(() => store.setFilter(filter), [store, filter]);

  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });

  useEffect(() => {
    if (follow && count > 0) virtualizer.scrollToIndex(count - 1, { align: 'end' });
  }, [version, follow, count, virtualizer]);

  const record = selected === undefined ? undefined : store.get(selected);
  // Read on each render (a few names): `version` re-renders the view when records bring new ones.
  const methods = store.methods();
  const paused = store.isPaused();
  const held = store.heldCount();

  const select = (row: number) => {
    const r = store.row(row);
    if (!r) return;
    setSelected(r.seq);
    setFollow(false);
    virtualizer.scrollToIndex(row, { align: 'auto' });
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    e.preventDefault();
    const at = selected === undefined ? -1 : store.rowOf(selected);
    select(Math.max(0, Math.min(count - 1, at + (e.key === 'ArrowDown' ? 1 : -1))));
  };

  const filtering =
    filter.endpoint !== '' || filter.method !== '' || filter.direction !== '' || filter.text !== '';

  return (
    <section className="view traffic-view" aria-label="Traffic">
      <div className="toolbar filters" role="search">
        <h1>Traffic</h1>
        <select
          aria-label="Endpoint"
          value={filter.endpoint}
          onChange={(e) => setFilter({ ...filter, endpoint: e.target.value })}
        >
          <option value="">All endpoints</option>
          {endpoints.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
        <input
          aria-label="Method"
          placeholder="Method"
          list="traffic-methods"
          value={filter.method}
          onChange={(e) => setFilter({ ...filter, method: e.target.value })}
          spellCheck={false}
        />
        <datalist id="traffic-methods">
          {methods.map((m) => (
            <option key={m} value={m} />
          ))}
        </datalist>
        <select
          aria-label="Direction"
          value={filter.direction}
          onChange={(e) =>
            setFilter({ ...filter, direction: e.target.value as TrafficViewFilter['direction'] })
          }
        >
          <option value="">Both directions</option>
          <option value="client-to-server">→ client to server</option>
          <option value="server-to-client">← server to client</option>
        </select>
        <input
          aria-label="Search text"
          placeholder="Search text"
          type="search"
          value={text}
          onChange={(e) => setText(e.target.value)}
          spellCheck={false}
        />
        {filtering && (
          <button
            type="button"
            className="small"
            onClick={() => {
              setText('');
              setFilter(NO_FILTER);
            }}
          >
            Reset
          </button>
        )}
        <span className="grow" />
        <span className="muted count" aria-live="polite" data-testid="traffic-count">
          {filtering
            ? `${count.toLocaleString()} of ${store.total().toLocaleString()}`
            : count.toLocaleString()}{' '}
          messages
        </span>
        <button
          type="button"
          className={paused ? 'warn' : ''}
          onClick={() => store.setPaused(!paused)}
          aria-pressed={paused}
        >
          {paused ? `Resume${held ? ` (${held.toLocaleString()} new)` : ''}` : 'Pause'}
        </button>
        <button
          type="button"
          onClick={() => store.clear()}
          title="Clear the list (the engine keeps its records)"
        >
          Clear
        </button>
        <button
          type="button"
          disabled={count === 0}
          onClick={() =>
            download(
              `mcp-tether-traffic-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`,
              store
                .filtered()
                .map((r) => JSON.stringify(r) + '\n')
                .join(''),
              'application/x-ndjson',
            )
          }
        >
          Export JSONL
        </button>
      </div>
      <div className="traffic-split">
        <div className="traffic-list">
          <div className="trow thead" role="row">
            <span>#</span>
            <span>Time</span>
            <span>Endpoint</span>
            <span title="Direction">Dir</span>
            <span>Kind</span>
            <span>Method</span>
            <span>Id</span>
            <span className="num">Size</span>
            <span className="num">Latency</span>
          </div>
          <div
            className="tbody"
            ref={scroller}
            tabIndex={0}
            role="grid"
            aria-label="Messages"
            aria-rowcount={count}
            onKeyDown={onKeyDown}
            onScroll={(e) => {
              const el = e.currentTarget;
              const atEnd = el.scrollHeight - el.scrollTop - el.clientHeight < ROW_HEIGHT;
              if (atEnd !== follow) setFollow(atEnd);
            }}
          >
            {count === 0 ? (
              <div className="empty small-text">
                {store.total() === 0
                  ? 'No traffic yet. Messages appear here as MCP clients use the endpoints.'
                  : 'No message matches the filter.'}
              </div>
            ) : (
              <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
                {virtualizer.getVirtualItems().map((v) => {
                  const r = store.row(v.index)!;
                  return (
                    <Row
                      key={r.seq}
                      record={r}
                      index={v.index}
                      top={v.start}
                      latency={store.latencyOf(r)}
                      pairMethod={r.method === undefined ? store.pairOf(r)?.method : undefined}
                      selected={r.seq === selected}
                      onSelect={() => {
                        setSelected(r.seq);
                        setFollow(false);
                      }}
                    />
                  );
                })}
              </div>
            )}
          </div>
          {!follow && count > 0 && (
            <button type="button" className="follow small" onClick={() => setFollow(true)}>
              ↓ Follow new messages
            </button>
          )}
        </div>
        <Detail store={store} record={record} onSelect={(seq) => setSelected(seq)} />
      </div>
    </section>
  );
}

/** One message in the list. */
function Row({
  record: r,
  index,
  top,
  latency,
  pairMethod,
  selected,
  onSelect,
}: {
  record: TrafficRecord;
  index: number;
  top: number;
  latency: number | undefined;
  /** The method of the request an answer answers, when the answer does not carry it. */
  pairMethod: string | undefined;
  selected: boolean;
  onSelect(): void;
}) {
  const failed = r.kind === 'error';
  return (
    <div
      className={`trow${selected ? ' selected' : ''}${index % 2 ? ' odd' : ''}`}
      data-kind={r.kind}
      role="row"
      aria-rowindex={index + 1}
      aria-selected={selected}
      data-seq={r.seq}
      style={{ transform: `translateY(${top}px)`, height: ROW_HEIGHT }}
      onClick={onSelect}
    >
      <span className="muted">{r.seq}</span>
      <span>{formatClock(r.time)}</span>
      <span className="ellipsis">{r.endpoint}</span>
      <span className={`dir ${r.direction ?? ''}`} title={r.direction ?? 'engine event'}>
        {r.direction ? ARROWS[r.direction] : '•'}
      </span>
      <span>
        <span className={`kind kind-${r.kind}`}>{r.kind}</span>
      </span>
      <span className="ellipsis method">
        {r.kind === 'event' ? (
          `${r.event?.type}: ${r.event?.detail}`
        ) : r.method !== undefined ? (
          r.method
        ) : (
          <span className="muted">{pairMethod}</span>
        )}
        {failed && r.errorDataCode ? <span className="err-code"> {r.errorDataCode}</span> : null}
      </span>
      <span className="ellipsis muted">{r.id === undefined || r.id === null ? '' : String(r.id)}</span>
      <span className="num muted">{formatBytes(r.bytes)}</span>
      <span className="num">
        {r.kind === 'request' || r.kind === 'response' || failed ? formatLatency(latency) : ''}
      </span>
    </div>
  );
}

/** The selected message, and its request or answer next to it. */
function Detail({
  store,
  record,
  onSelect,
}: {
  store: TrafficStore;
  record: TrafficRecord | undefined;
  onSelect(seq: number): void;
}) {
  if (!record)
    return (
      <aside className="traffic-detail empty-detail" aria-label="Message detail">
        <p className="muted">Select a message to see it, with its request or answer.</p>
      </aside>
    );
  const pair = store.pairOf(record);
  const isAnswer = record.kind === 'response' || record.kind === 'error';
  const request = isAnswer ? pair : record.kind === 'request' ? record : undefined;
  const answer = isAnswer ? record : record.kind === 'request' ? pair : undefined;
  const latency = store.latencyOf(record);
  return (
    <aside className="traffic-detail" aria-label="Message detail">
      <header>
        <span className={`kind kind-${record.kind}`}>{record.kind}</span>
        <h2>{record.method ?? record.event?.type ?? '(no method)'}</h2>
      </header>
      <dl className="meta">
        <dt>Endpoint</dt>
        <dd>{record.endpoint}</dd>
        <dt>Session</dt>
        <dd>{record.session}</dd>
        {record.direction && (
          <>
            <dt>Direction</dt>
            <dd>{record.direction}</dd>
          </>
        )}
        <dt>Time</dt>
        <dd>{record.time}</dd>
        <dt>Seq</dt>
        <dd>{record.seq}</dd>
        {record.id !== undefined && (
          <>
            <dt>Id</dt>
            <dd>{JSON.stringify(record.id)}</dd>
          </>
        )}
        <dt>Size</dt>
        <dd>{formatBytes(record.bytes)}</dd>
        {latency !== undefined && (request || answer) && (
          <>
            <dt>Latency</dt>
            <dd data-testid="latency">{formatLatency(latency)}</dd>
          </>
        )}
        {record.errorDataCode && (
          <>
            <dt>Error</dt>
            <dd>
              {record.errorCode} {record.errorDataCode}
            </dd>
          </>
        )}
      </dl>
      {record.kind === 'event' ? (
        <p className="event-detail">{record.event?.detail}</p>
      ) : request || answer ? (
        <>
          <MessageBlock
            title="Request"
            record={request}
            current={record}
            onSelect={onSelect}
            missing={isAnswer ? 'The request is no longer in the list.' : ''}
          />
          <MessageBlock
            title={answer?.kind === 'error' ? 'Error' : 'Response'}
            record={answer}
            current={record}
            onSelect={onSelect}
            missing="No answer yet."
          />
        </>
      ) : (
        <MessageBlock title="Message" record={record} current={record} onSelect={onSelect} missing="" />
      )}
    </aside>
  );
}

function MessageBlock({
  title,
  record,
  current,
  onSelect,
  missing,
}: {
  title: string;
  record: TrafficRecord | undefined;
  current: TrafficRecord;
  onSelect(seq: number): void;
  missing: string;
}) {
  return (
    <section className={`message-block${record === current ? ' current' : ''}`} aria-label={title}>
      <header>
        <h3>{title}</h3>
        {record && record !== current && (
          <button type="button" className="link small" onClick={() => onSelect(record.seq)}>
            #{record.seq}
          </button>
        )}
        <span className="grow" />
        {record && (
          <CopyButton
            key={record.seq}
            text={() => JSON.stringify(record.message, null, 2)}
            label="Copy JSON"
          />
        )}
      </header>
      {record ? <JsonView value={record.message} /> : <p className="muted small-text">{missing}</p>}
    </section>
  );
}
