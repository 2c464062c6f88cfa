import { memo } from 'react';
import { typeCounts } from '../../../shared/finding-counts';
import type { FlowSummary } from '../../../shared/types';
import { TypeBadge } from '../lib/TypeBadge';
import { formatDateTime, formatSize, formatTime, pathOf } from '../lib/format';
import { typeColor } from '../lib/labels';

export const FlowRow = memo(function FlowRow(props: {
  flow: FlowSummary;
  deviceName: string;
  active: boolean;
  open: boolean;
  /** the feed spans days: the date too, to the second */
  withDate: boolean;
  onOpen: (id: number) => void;
}) {
  const { flow } = props;
  const types = typeCounts(flow.findings);
  const flagged = types.length > 0;
  const status = flow.error ? 'ERR' : flow.status ?? '…';
  return (
    <div
      id={`flow-${flow.id}`}
      role="option"
      aria-selected={props.active}
      data-flow-id={flow.id}
      data-flagged={flagged ? 'true' : 'false'}
      className={`row${flagged ? ' flagged' : ''}${props.active ? ' active' : ''}${props.open ? ' open' : ''}`}
      style={flagged ? { borderLeftColor: typeColor(types[0][0]) } : undefined}
      onClick={() => props.onOpen(flow.id)}
    >
      <span className="c-time">{props.withDate ? formatDateTime(flow.start) : formatTime(flow.start)}</span>
      <span className="c-device" title={flow.client}>{props.deviceName}</span>
      <span className={`c-method m-${flow.method.toLowerCase()}`}>{flow.method}</span>
      <span className={`c-status s-${String(status)[0]}`} title={flow.error}>{status}</span>
      <span className="c-url">
        <span className="c-host">{flow.host}</span>
        {flow.tracker ? (
          <span className="tracker" title={`Known tracker: ${flow.tracker.name}`} data-testid="flow-tracker">
            {flow.tracker.name}
          </span>
        ) : null}
        <span className="c-path">{pathOf(flow.url)}</span>
      </span>
      <span className="c-badges">
        {flow.marked ? <span className="tag marked" title={flow.comment ?? 'marked'} data-testid="row-marked">marked</span> : null}
        {flow.action ? <span className={`action action-${flow.action}`}>{flow.action}</span> : null}
        {flow.mode ? (
          <span className="mode" title={`Came in through ${flow.mode} mode, not the proxy setting`} data-testid="flow-mode">
            {flow.mode}
          </span>
        ) : null}
        {types.map(([t, n]) => (
          <TypeBadge key={t} type={t} count={n} />
        ))}
        {flow.destination?.country ? <span className="country" title="Destination country">{flow.destination.country}</span> : null}
      </span>
      <span className="c-size">{formatSize(flow.size)}</span>
    </div>
  );
});
