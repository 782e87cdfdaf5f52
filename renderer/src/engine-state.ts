/**
 * React hooks over a {@link Transport}: the endpoints with live status, engine facts, the link
 * state, and the traffic store fed with the backlog and then live records.
 */
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { EndpointSummary, EngineInfo, TrafficRecord } from '../../main/common/domain.js';
import { TrafficStore } from './traffic/store.js';
import { toTetherError } from '../../main/common/errors.js';
import type { LinkState, Transport } from './transport/types.js';

/** How many past records the inspector loads when it opens (the engine keeps 20,000 by default; the list keeps up to 200,000). */
const BACKLOG = 100_000;
/** Records of the first backlog page, shown before the rest loads. */
const FIRST_PAGE = 2_000;

/** How often engine facts (memory, uptime, ring use) are refreshed (ms). */
const INFO_EVERY_MS = 5000;

/** What {@link useEngine} gives the views. */
export interface EngineState {
  endpoints: EndpointSummary[];
  /** Set once the first list arrived. */
  loaded: boolean;
  engine: EngineInfo | undefined;
  link: LinkState;
  /** Why the last reload failed, if it did. */
  error: string | undefined;
  /** Re-reads the endpoint list (after an add, update or remove). */
  reload(): Promise<void>;
}

/** Endpoints with live status, engine facts and the link state. */
export function useEngine(transport: Transport): EngineState {
  const [endpoints, setEndpoints] = useState<EndpointSummary[]>([]);
  const [loaded, setLoaded] = useState(false);
  const [engine, setEngine] = useState<EngineInfo>();
  const [link, setLink] = useState<LinkState>(transport.linkState());
  const [error, setError] = useState<string>();

  const reload = useCallback(async () => {
    try {
      const { endpoints: list } = await transport.call('endpoints/list', {});
      setEndpoints(list);
      setLoaded(true);
      setError(undefined);
    } catch (err) {
      setError(toTetherError(err).message);
    }
  }, [transport]);

  const refreshInfo = useCallback(async () => {
    try {
      const { engine: info, endpoints: statuses } = await transport.call('status/get', {});
      setEngine(info);
      const byName = new Map(statuses.map((s) => [s.name, s]));
      setEndpoints((prev) => prev.map((e) => ({ ...e, status: byName.get(e.name) ?? e.status })));
    } catch {
      // The link state shows it; the next tick retries.
    }
  }, [transport]);

  useEffect(() => {
    let stale = false;
    const off = transport.onStatusChanged((status) => {
      setEndpoints((prev) => {
        if (!prev.some((e) => e.name === status.name)) {
          // An endpoint added elsewhere (the CLI): its config comes with the list.
          if (!stale) void reload();
          return prev;
        }
        return prev.map((e) => (e.name === status.name ? { ...e, status } : e));
      });
    });
    let lost = false;
    const offLink = transport.onLinkState((state) => {
      setLink(state);
      if (state === 'closed') lost = true;
      else if (state === 'open' && lost) {
        lost = false;
        void reload();
        void refreshInfo();
      }
    });
    // The link may have opened between the first render and this effect: that event was missed.
    setLink(transport.linkState());
    void reload();
    void refreshInfo();
    const timer = setInterval(() => void refreshInfo(), INFO_EVERY_MS);
    return () => {
      stale = true;
      off();
      offLink();
      clearInterval(timer);
    };
  }, [transport, reload, refreshInfo]);

  return { endpoints, loaded, engine, link, error, reload };
}

/**
 * A traffic store fed by the transport: live records are listened for first and kept aside while
 * the backlog loads, then those newer than the backlog follow it (as `mcp-tether traffic --follow`
 * does), so none is lost or shown twice. Reloaded when the link reopens.
 */
export function useTraffic(transport: Transport): TrafficStore {
  const store = useMemo(() => new TrafficStore(), []);
  useEffect(() => {
    let live = false;
    let early: TrafficRecord[] = [];
    let generation = 0;
    const load = async () => {
      const mine = ++generation;
      live = false;
      early = [];
      try {
        // The newest records first, so the list shows at once; then the older ones behind them.
        const { records } = await transport.call('traffic/query', { limit: FIRST_PAGE });
        if (mine !== generation) return;
        store.clear();
        store.load(records);
        const last = records.at(-1)?.seq ?? 0;
        store.load(early.filter((r) => r.seq > last));
        live = true;
        early = [];
        const oldest = records[0]?.seq;
        if (records.length < FIRST_PAGE || oldest === undefined || oldest <= 1) return;
        const older = await transport.call('traffic/query', {
          beforeSeq: oldest,
          limit: BACKLOG - FIRST_PAGE,
        });
        if (mine === generation) store.loadOlder(older.records);
      } catch {
        // Shown as the link state; loaded again when it reopens.
      } finally {
        if (mine === generation) {
          live = true;
          early = [];
        }
      }
    };
    const off = transport.onTrafficRecord((r) => {
      if (live) store.push(r);
      else early.push(r);
    });
    let lost = false;
    const offLink = transport.onLinkState((state) => {
      if (state === 'closed') lost = true;
      else if (state === 'open' && lost) {
        lost = false;
        void load();
      }
    });
    void load();
    return () => {
      generation++;
      off();
      offLink();
    };
  }, [transport, store]);
  return store;
}

/** Re-renders every `ms` (for durations that grow: time in state, uptime). */
export function useTick(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
