import { memo, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { IDENTIFIER_TYPES, type IdentifierType } from '../../../shared/types';
import type { TimelineBucket } from '../../../shared/api';
import { timeline } from '../store/timelineStore';
import { store } from '../store/flowStore';
import { useSessions, useStoreValue } from '../store/useStore';
import type { TimeRange } from '../lib/range';
import { RangeFields } from './RangeFields';
import { typeColor, typeLabel } from '../lib/labels';
import { formatDateTime } from '../lib/format';

const HEIGHT = 48;
/** A pointer that moved less than this between down and up clicked; it did not brush. */
const MIN_BRUSH_PX = 3;

/** "minute", "5 minutes", "hour", "day"… */
function bucketName(ms: number): string {
  const minutes = ms / 60_000;
  if (minutes % 1440 === 0) return minutes === 1440 ? 'day' : `${minutes / 1440} days`;
  if (minutes % 60 === 0) return minutes === 60 ? 'hour' : `${minutes / 60} hours`;
  return minutes === 1 ? 'minute' : `${minutes} minutes`;
}

/** Bars of one series as one path: x in buckets from `t0`, y down from HEIGHT, each bar `[base, base + h)`. */
function barsPath(buckets: TimelineBucket[], t0: number, bucketMs: number, scale: number, height: (b: TimelineBucket) => [number, number]): string {
  let d = '';
  for (const b of buckets) {
    const [base, h] = height(b);
    if (h <= 0) continue;
    const x = (b.start - t0) / bucketMs;
    const y0 = HEIGHT - base * scale;
    const y1 = HEIGHT - (base + h) * scale;
    d += `M${x} ${y0.toFixed(2)}V${y1.toFixed(2)}h0.85V${y0.toFixed(2)}z`;
  }
  return d;
}

interface Drawn {
  t0: number;
  t1: number;
  total: string;
  stacks: { type: IdentifierType; d: string }[];
  summary: string;
}

function draw(buckets: TimelineBucket[], bucketMs: number): Drawn | undefined {
  if (buckets.length === 0) return undefined;
  const t0 = buckets[0].start;
  const t1 = buckets[buckets.length - 1].start + bucketMs;
  let peak = buckets[0];
  let flows = 0;
  let flagged = 0;
  const byType = new Map<IdentifierType, number>();
  for (const b of buckets) {
    if (b.flows > peak.flows) peak = b;
    flows += b.flows;
    flagged += b.flagged;
    for (const [t, n] of Object.entries(b.types) as [IdentifierType, number][]) byType.set(t, (byType.get(t) ?? 0) + n);
  }
  const scale = (HEIGHT - 2) / Math.max(peak.flows, 1);
  const total = barsPath(buckets, t0, bucketMs, scale, (b) => [0, b.flows]);
  // Stacked in IDENTIFIER_TYPES order from the bottom up: the bars of one type line up across buckets.
  const types = IDENTIFIER_TYPES.filter((t) => byType.has(t));
  const stacks = types.map((type) => ({
    type,
    d: barsPath(buckets, t0, bucketMs, scale, (b) => {
      let base = 0;
      for (const t of types) {
        if (t === type) break;
        base += b.types[t] ?? 0;
      }
      return [base, b.types[type] ?? 0];
    }),
  }));
  const unit = bucketName(bucketMs);
  const flaggedText = flagged ? `, ${flagged.toLocaleString()} flagged (${types.map((t) => `${typeLabel(t)} ${byType.get(t)!.toLocaleString()}`).join(', ')})` : ', none flagged';
  const summary = `Timeline, flows per ${unit}: ${flows.toLocaleString()} flows from ${formatDateTime(t0)} to ${formatDateTime(t1)}${flaggedText}; busiest ${unit} ${formatDateTime(peak.start)} with ${peak.flows.toLocaleString()}.`;
  return { t0, t1, total, stacks, summary };
}

/** The whole buckets a brush from `a` to `b` touches. */
function snap(a: number, b: number, bucketMs: number): TimeRange {
  const from = Math.floor(Math.min(a, b) / bucketMs) * bucketMs;
  return { from, to: Math.max(from + bucketMs, Math.ceil(Math.max(a, b) / bucketMs) * bucketMs) };
}

/**
 * Flows per minute over the feed, flagged ones stacked by type, with the sessions' starts and markers. Dragging
 * across it selects a time range (whole buckets), which narrows the feed, the matrix and the export; the fields
 * below it say the range and take one typed.
 */
export const TimelineStrip = memo(function TimelineStrip() {
  useSyncExternalStore(timeline.subscribe, timeline.getVersion);
  const { buckets, bucketMs } = timeline;
  const drawn = useMemo(() => draw(buckets, bucketMs), [buckets, bucketMs]);
  const sessions = useSessions().sessions;
  const session = useStoreValue((s) => s.session);
  const range = useStoreValue((s) => s.range);
  const svg = useRef<SVGSVGElement>(null);
  const [brush, setBrush] = useState<{ a: number; b: number; x: number }>();
  if (!drawn) return null;
  const { t0 } = drawn;
  // The picked session's starts and markers (all of them without one); a marker after the last flow widens the strip.
  const marks = sessions
    .filter((s) => session === undefined || s.id === session)
    .flatMap((s) => [
      { key: `s${s.id}`, time: s.started, kind: 'session', text: `session ${s.name} started` },
      ...s.markers.map((m) => ({ key: `m${m.id}`, time: m.time, kind: 'marker', text: m.text })),
    ])
    .filter((m) => m.time >= t0);
  const t1 = Math.max(drawn.t1, ...marks.map((m) => Math.floor(m.time / bucketMs) * bucketMs + bucketMs));
  const width = (t1 - t0) / bucketMs;
  const x = (t: number) => (t - t0) / bucketMs;
  const timeAt = (clientX: number) => {
    const box = svg.current!.getBoundingClientRect();
    return t0 + Math.min(1, Math.max(0, (clientX - box.left) / box.width)) * (t1 - t0);
  };
  const shown = brush ? snap(brush.a, brush.b, bucketMs) : range;
  const markers = marks.filter((m) => m.kind === 'marker').length;
  const label = `${drawn.summary}${markers ? ` ${markers} ${markers === 1 ? 'marker' : 'markers'}.` : ''}`;
  return (
    <div className="strip" data-testid="timeline-strip">
      <svg
        className="strip-chart"
        viewBox={`0 0 ${width} ${HEIGHT}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={label}
        data-bucket-ms={bucketMs}
        data-from={t0}
        data-to={t1}
        ref={svg}
        onPointerDown={(e) => {
          if (e.button !== 0) return;
          e.currentTarget.setPointerCapture(e.pointerId);
          const t = timeAt(e.clientX);
          setBrush({ a: t, b: t, x: e.clientX });
        }}
        onPointerMove={(e) => brush && setBrush({ ...brush, b: timeAt(e.clientX) })}
        onPointerUp={(e) => {
          if (!brush) return;
          setBrush(undefined);
          if (Math.abs(e.clientX - brush.x) >= MIN_BRUSH_PX) store.setRange(snap(brush.a, timeAt(e.clientX), bucketMs));
        }}
        onPointerCancel={() => setBrush(undefined)}
      >
        <path className="strip-total" d={drawn.total} />
        {drawn.stacks.map((s) => (
          <path key={s.type} d={s.d} fill={typeColor(s.type)} data-type={s.type} />
        ))}
        {shown ? <rect className="strip-range" x={x(shown.from)} width={x(shown.to) - x(shown.from)} y={0} height={HEIGHT} data-testid="strip-range" /> : null}
        {marks.map((m) => (
          <line key={m.key} className={`strip-${m.kind}`} x1={x(m.time)} x2={x(m.time)} y1={0} y2={HEIGHT} vectorEffect="non-scaling-stroke" data-testid={`strip-${m.kind}`}>
            <title>{`${formatDateTime(m.time)} ${m.text}`}</title>
          </line>
        ))}
      </svg>
      <div className="strip-axis">
        <span aria-hidden="true">{formatDateTime(t0)}</span>
        <RangeFields range={range} unit={bucketName(bucketMs)} />
        <span aria-hidden="true">{formatDateTime(t1)}</span>
      </div>
    </div>
  );
});
