import type { Body, Flow, WebSocketMessage } from '../../../shared/types';
import { formatDateTime } from '../lib/format';
import { BodyView } from './BodyView';
import type { MarkItem } from './Marked';

/** A message's data as a body, so it is shown (JSON pretty-printed, binary as base64) and marked as bodies are. */
function asBody(m: WebSocketMessage): Body {
  return { text: m.data, size: m.size, ...(m.opcode === 2 ? { encoding: 'base64' as const } : {}), ...(m.truncated ? { truncated: true } : {}) };
}

/** What a redaction sent instead, with its own size. */
function sentBody(m: WebSocketMessage, sent: string): Body {
  const size = m.opcode === 2 ? Math.floor((sent.replace(/=+$/, '').length * 3) / 4) : new TextEncoder().encode(sent).length;
  return { ...asBody(m), text: sent, size, truncated: undefined };
}

/** Every message of a WebSocket flow in order, each finding marked in the message it names. Text only, never markup. */
export function WebSocketMessages({ flow, items }: { flow: Flow; items: MarkItem[] }) {
  const messages = flow.messages ?? [];
  return (
    <>
      <h3>
        Messages ({messages.length}
        {flow.messagesOmitted ? ` listed, ${flow.messagesOmitted} more not kept` : ''})
      </h3>
      {messages.length === 0 ? <p className="muted">No message.</p> : null}
      <ol className="ws-messages" data-testid="ws-messages">
        {messages.map((m, i) => {
          const here = items.filter((it) => it.finding.message === i);
          return (
            <li key={i} className={`ws-message ws-${m.type}${here.length ? ' has-finding' : ''}`} data-testid="ws-message" data-index={i}>
              <div className="ws-message-head small">
                <span className="ws-direction">{m.type === 'send' ? '↑ phone → server' : '↓ server → phone'}</span>{' '}
                <span className="muted">
                  {formatDateTime(m.time)} · {m.opcode === 1 ? 'text' : 'binary'}
                </span>
                {m.action ? <span className={`action action-${m.action}`}>{m.action}</span> : null}
              </div>
              <BodyView body={asBody(m)} items={here} />
              {m.sentData !== undefined ? (
                <>
                  <p className="muted small">What left for the server (redacted):</p>
                  <BodyView body={sentBody(m, m.sentData)} />
                </>
              ) : null}
            </li>
          );
        })}
      </ol>
    </>
  );
}
