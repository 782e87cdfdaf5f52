/** Small shared pieces of the UI: state badges, error notes, a sparkline, JSON, copy, dialogs. */
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import type { HealthState } from '../../../main/common/domain.js';
import type { TetherError } from '../../../main/common/errors.js';

/** What each health state means, for tooltips. */
const STATE_HELP: Record<HealthState, string> = {
  idle: 'Nothing uses it; not connected.',
  connecting: 'Opening the transport or running initialize.',
  ready: 'The last probe or request succeeded.',
  degraded: 'Reachable, but a probe failed or was slow.',
  down: 'Cannot be reached; retrying with backoff.',
  'auth-required': 'The server wants credentials, or none are stored.',
  'host-untrusted': 'The SSH host key is unknown or changed.',
  disconnected: 'Disconnected by you: no connection is open; clients get answers from its last known state.',
};

/** A coloured dot and the state's name. */
export function StateBadge({ state }: { state: HealthState }) {
  return (
    <span className={`state state-${state}`} title={STATE_HELP[state]} data-state={state}>
      <span className="dot" aria-hidden="true" />
      {state}
    </span>
  );
}

/** An error as the engine reported it, with its hint. */
export function ErrorNote({ error }: { error: TetherError | string | undefined }) {
  if (!error) return null;
  const message = typeof error === 'string' ? error : error.message;
  const hint = typeof error === 'string' ? undefined : error.hint;
  const code = typeof error === 'string' ? undefined : error.code;
  return (
    <div className="error-note" role="alert">
      {code && <code className="code">{code}</code>} {message}
      {hint && <div className="hint">{hint}</div>}
    </div>
  );
}

/** A tiny line chart of recent values (ping RTTs). */
export function Sparkline({
  values,
  width = 220,
  height = 44,
  label,
}: {
  values: number[];
  width?: number;
  height?: number;
  label: string;
}) {
  // One ping draws a flat line: a line needs two points.
  if (values.length === 1) values = [values[0]!, values[0]!];
  if (values.length < 2)
    return (
      <div className="sparkline-empty" style={{ width, height }}>
        no pings yet
      </div>
    );
  const max = Math.max(...values);
  const min = Math.min(...values);
  const span = max - min || 1;
  const pad = 3;
  const x = (i: number) => pad + (i / (values.length - 1)) * (width - 2 * pad);
  const y = (v: number) => height - pad - ((v - min) / span) * (height - 2 * pad);
  const points = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const last = values.length - 1;
  // Stretched to the card's width: the stroke keeps its width (non-scaling-stroke in the CSS).
  return (
    <svg
      className="sparkline"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      preserveAspectRatio="none"
      role="img"
      aria-label={`${label}: ${values.length} pings, from ${Math.round(min)} to ${Math.round(max)} ms`}
    >
      <polyline points={`${x(0)},${height - pad} ${points} ${x(last)},${height - pad}`} className="area" />
      <polyline points={points} className="line" />
    </svg>
  );
}

/** Above this size JSON is shown without colours (thousands of spans would slow the page down). */
const HIGHLIGHT_BELOW = 200_000;

/** Pretty-printed JSON with light syntax colouring. */
export function JsonView({ value }: { value: unknown }) {
  const text = JSON.stringify(value, null, 2) ?? 'undefined';
  if (text.length > HIGHLIGHT_BELOW) return <pre className="json">{text}</pre>;
  const parts: ReactNode[] = [];
  const token = /("(?:[^"\\]|\\.)*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
  let last = 0;
  for (let m = token.exec(text); m; m = token.exec(text)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    const [whole, str, colon, lit, num] = m;
    const k = parts.length;
    if (str !== undefined)
      parts.push(
        <span key={k} className={colon ? 'j-key' : 'j-str'}>
          {str}
        </span>,
        colon ?? '',
      );
    else if (lit !== undefined)
      parts.push(
        <span key={k} className="j-lit">
          {lit}
        </span>,
      );
    else if (num !== undefined)
      parts.push(
        <span key={k} className="j-num">
          {num}
        </span>,
      );
    last = m.index + whole.length;
  }
  parts.push(text.slice(last));
  return <pre className="json">{parts}</pre>;
}

/** Writes text to the clipboard; falls back to a hidden textarea where the API is unavailable. */
export async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    return;
  } catch {
    // Not a secure context, or no permission: the old way.
  }
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  ta.style.position = 'fixed';
  ta.style.opacity = '0';
  document.body.append(ta);
  ta.select();
  document.execCommand('copy');
  ta.remove();
}

/** A button that copies `text` and says so for a moment. */
export function CopyButton({ text, label = 'Copy' }: { text: () => string; label?: string }) {
  const [done, setDone] = useState(false);
  useEffect(() => {
    if (!done) return;
    const t = setTimeout(() => setDone(false), 1500);
    return () => clearTimeout(t);
  }, [done]);
  return (
    <button
      type="button"
      className="small"
      onClick={() => void copyText(text()).then(() => setDone(true))}
      aria-live="polite"
    >
      {done ? 'Copied' : label}
    </button>
  );
}

/** A modal dialog: Escape or the backdrop closes it; focus moves into it when it opens. */
export function Modal({
  title,
  onClose,
  children,
  wide,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
}) {
  const id = useId();
  const ref = useRef<HTMLDivElement>(null);
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') close.current();
    };
    window.addEventListener('keydown', onKey);
    const box = ref.current;
    (
      box?.querySelector<HTMLElement>('input:not([disabled]):not([type="checkbox"])') ??
      box?.querySelector<HTMLElement>('select, textarea') ??
      box?.querySelector<HTMLElement>('.actions button')
    )?.focus();
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  return (
    <div
      className="backdrop"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) onClose();
      }}
    >
      <div
        className={`modal${wide ? ' wide' : ''}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={id}
        ref={ref}
      >
        <header>
          <h2 id={id}>{title}</h2>
          <button type="button" className="icon" aria-label="Close" onClick={onClose}>
            ×
          </button>
        </header>
        {children}
      </div>
    </div>
  );
}
