import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { FlowSummary } from '../../../shared/types';
import { useStore } from '../store/useStore';
import { FilterBar } from './FilterBar';
import { FlowRow } from './FlowRow';
import { TimelineStrip } from './TimelineStrip';
import { FlowDetail } from '../FlowDetail/FlowDetail';
import { navigate } from '../lib/route';
import { isTyping, useWindowKeys } from '../lib/keys';

function useNarrow(): boolean {
  const q = '(max-width: 760px)';
  const [narrow, setNarrow] = useState(() => matchMedia(q).matches);
  useEffect(() => {
    const m = matchMedia(q);
    const on = () => setNarrow(m.matches);
    m.addEventListener('change', on);
    return () => m.removeEventListener('change', on);
  }, []);
  return narrow;
}

/** Position (ascending) of `id` in an id-ascending list, or -1. */
function indexOfId(list: FlowSummary[], id: number): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = list[mid].id;
    if (v === id) return mid;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

export function Feed({ openId }: { openId?: number }) {
  const s = useStore();
  const list = s.visible;
  const count = list.length;
  // Times alone while every flow shown is of one day; with dates once they span days.
  const withDates = s.visibleSpan !== undefined && new Date(s.visibleSpan.first).toDateString() !== new Date(s.visibleSpan.last).toDateString();
  const narrow = useNarrow();
  const rowHeight = narrow ? 58 : 34;
  const scrollRef = useRef<HTMLDivElement>(null);
  const [activeId, setActiveId] = useState<number | undefined>(openId);
  // Display index i (newest first) ↔ list[count - 1 - i].
  const at = (i: number) => list[count - 1 - i];

  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => rowHeight,
    overscan: 12,
    getItemKey: (i) => list[count - 1 - i]?.id ?? i,
  });

  useEffect(() => virtualizer.measure(), [rowHeight, virtualizer]);

  // New flows enter at the top. A reader scrolled down keeps the same rows under their eyes.
  const prev = useRef<{ list: FlowSummary[]; count: number; newest: number }>({ list, count, newest: count ? list[count - 1].id : 0 });
  useLayoutEffect(() => {
    const p = prev.current;
    const newest = count ? list[count - 1].id : 0;
    const el = scrollRef.current;
    if (el && p.list === list && count > p.count && el.scrollTop > 0) {
      // Rows added above the previous newest one.
      const pos = indexOfId(list, p.newest);
      const above = pos >= 0 ? count - 1 - pos : 0;
      if (above > 0) el.scrollTop += above * rowHeight;
    }
    prev.current = { list, count, newest };
  }, [list, count, rowHeight]);

  const open = useCallback((id: number) => {
    setActiveId(id);
    navigate({ view: 'feed', flowId: id });
  }, []);

  const activeIndex = (() => {
    if (activeId === undefined) return -1;
    const pos = indexOfId(list, activeId);
    return pos < 0 ? -1 : count - 1 - pos;
  })();

  const moveTo = (i: number): number | undefined => {
    if (count === 0) return undefined;
    const idx = Math.max(0, Math.min(count - 1, i));
    setActiveId(at(idx).id);
    virtualizer.scrollToIndex(idx, { align: 'auto' });
    return idx;
  };

  const onKeyDown = (e: React.KeyboardEvent) => {
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? 400) / rowHeight) - 1);
    const cur = activeIndex < 0 ? -1 : activeIndex;
    switch (e.key) {
      case 'ArrowDown':
        moveTo(cur + 1);
        break;
      case 'ArrowUp':
        moveTo(cur - 1);
        break;
      case 'PageDown':
        moveTo(cur + page);
        break;
      case 'PageUp':
        moveTo(cur - page);
        break;
      case 'Home':
        moveTo(0);
        break;
      case 'End':
        moveTo(count - 1);
        break;
      case 'Enter':
        if (activeIndex >= 0) open(at(activeIndex).id);
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  const closeDetail = useCallback(() => {
    navigate({ view: 'feed' });
    scrollRef.current?.focus();
  }, []);

  // Escape closes the detail wherever focus is, inside it too; `/` goes to search; j/k move like mitmweb's.
  useWindowKeys((e) => {
    if (e.key === 'Escape') {
      if (!openId) return false;
      closeDetail();
      return true;
    }
    if (isTyping(e.target)) return false;
    if (e.key === '/') {
      document.querySelector<HTMLInputElement>('form[role=search] input')?.focus();
      return true;
    }
    if (e.key !== 'j' && e.key !== 'k') return false;
    const idx = moveTo(activeIndex + (e.key === 'j' ? 1 : -1));
    if (idx !== undefined && openId) open(at(idx).id);
    else scrollRef.current?.focus();
    return true;
  });

  return (
    <div className={`feed${openId ? ' with-detail' : ''}`}>
      <div className="feed-main">
        <FilterBar />
        <div className="feed-toolbar">
          <button type="button" onClick={() => s.setPaused(!s.paused)} aria-pressed={s.paused} data-testid="pause">
            {s.paused ? `▶ Resume${s.held.length ? ` (${s.held.length} new)` : ''}` : '❚❚ Pause'}
          </button>
          <button type="button" onClick={() => s.clear()} data-testid="clear">
            Clear view
          </button>
          <span className="counts" data-testid="feed-count">
            {count.toLocaleString()} shown{count !== s.all.length ? ` of ${s.all.length.toLocaleString()}` : ''} · {s.flaggedSeen.toLocaleString()} flagged
          </span>
          {s.loadError ? <span className="error-text">{s.loadError}</span> : null}
        </div>
        <TimelineStrip />
        <div
          ref={scrollRef}
          className={`feed-list${withDates ? ' with-dates' : ''}`}
          tabIndex={0}
          role="listbox"
          aria-label="Captured flows, newest first. Arrow keys move, Enter opens."
          aria-activedescendant={activeIndex >= 0 ? `flow-${at(activeIndex).id}` : undefined}
          onKeyDown={onKeyDown}
          id="feed-list"
          data-testid="feed-list"
        >
          {count === 0 ? (
            <div className="empty">
              {s.all.length === 0 ? 'No flows yet. Point the phone at the proxy (see Setup).' : 'No flow matches the filter.'}
            </div>
          ) : null}
          <div style={{ height: virtualizer.getTotalSize(), position: 'relative' }}>
            {virtualizer.getVirtualItems().map((v) => {
              const flow = at(v.index);
              if (!flow) return null;
              return (
                <div key={v.key} className="row-wrap" style={{ transform: `translateY(${v.start}px)`, height: rowHeight }}>
                  <FlowRow
                    flow={flow}
                    deviceName={s.deviceName(flow.client, flow.device)}
                    active={flow.id === activeId}
                    open={flow.id === openId}
                    withDate={withDates}
                    onOpen={open}
                  />
                </div>
              );
            })}
          </div>
        </div>
      </div>
      {openId ? <FlowDetail id={openId} onClose={closeDetail} /> : null}
    </div>
  );
}
