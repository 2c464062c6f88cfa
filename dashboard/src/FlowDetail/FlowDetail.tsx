import { useEffect, useMemo, useRef, useState } from 'react';
import { HitsContext, termsOf } from './hits';
import { proposeRule } from '../Rules/proposal';
import { MarkPanel } from './MarkPanel';
import type { Finding, Flow, Headers } from '../../../shared/types';
import { api } from '../store/api';
import { useStoreValue } from '../store/useStore';
import { TypeBadge } from '../lib/TypeBadge';
import { formatDateTime } from '../lib/format';
import { toCurl } from '../lib/curl';
import { flowHarName } from '../../../shared/har-name';
import { parsePath } from '../lib/paths';
import { BodyView } from './BodyView';
import { Marked, type MarkItem } from './Marked';
import { WebSocketMessages } from './WebSocketMessages';
import { CANARY_DEVICE } from '../../../shared/identifiers';

function headerList(h: Headers | undefined): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(h ?? {})) for (const x of Array.isArray(v) ? v : [v]) out.push([k, String(x)]);
  return out;
}

function header(h: Headers | undefined, name: string): string | undefined {
  for (const [k, v] of headerList(h)) if (k.toLowerCase() === name) return v;
  return undefined;
}

function cookiesOf(h: Headers): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of headerList(h)) {
    if (k.toLowerCase() !== 'cookie') continue;
    for (const part of v.split(';')) {
      const i = part.indexOf('=');
      if (part.trim()) out.push(i < 0 ? [part.trim(), ''] : [part.slice(0, i).trim(), part.slice(i + 1).trim()]);
    }
  }
  return out;
}

function queryOf(url: string): [string, string][] {
  try {
    return [...new URL(url).searchParams.entries()];
  } catch {
    return [];
  }
}

/** Findings placed by (where, key): the path names the header / query key / cookie. */
function itemsAt(items: MarkItem[], where: Finding['where'], key: string, caseless = false): MarkItem[] {
  const k = caseless ? key.toLowerCase() : key;
  return items.filter((it) => {
    if (it.finding.where !== where) return false;
    const p = caseless ? it.finding.path.toLowerCase() : it.finding.path;
    return p === k || String(parsePath(p)[0] ?? '') === k;
  });
}

function KvTable({ rows, items, where, caseless, testid }: { rows: [string, string][]; items: MarkItem[]; where: Finding['where']; caseless?: boolean; testid?: string }) {
  if (rows.length === 0) return <p className="muted">None.</p>;
  return (
    <table className="kv" data-testid={testid}>
      <tbody>
        {rows.map(([k, v], i) => (
          <tr key={i}>
            <th scope="row">{k}</th>
            <td className="mono">
              <Marked text={v} items={itemsAt(items, where, k, caseless)} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.appendChild(ta);
    ta.select();
    const ok = document.execCommand('copy');
    ta.remove();
    return ok;
  }
}

export function FlowDetail({ id, onClose }: { id: number; onClose: () => void }) {
  const [flow, setFlow] = useState<Flow>();
  const [error, setError] = useState('');
  const [copied, setCopied] = useState('');
  const [showCurl, setShowCurl] = useState(false);
  const ref = useRef<HTMLElement>(null);
  const deviceName = useStoreValue((s) => (flow ? s.deviceName(flow.client, flow.device) : ''));
  const expression = useStoreValue((s) => s.filter.q);
  const hits = useMemo(() => termsOf(expression), [expression]);

  useEffect(() => {
    let cancelled = false;
    setFlow(undefined);
    setError('');
    setCopied('');
    api<Flow>(`/api/flows/${id}`)
      .then((f) => !cancelled && setFlow(f))
      .catch((e: Error) => !cancelled && setError(e.message));
    return () => {
      cancelled = true;
    };
  }, [id]);

  useEffect(() => {
    ref.current?.scrollTo({ top: 0 });
  }, [id]);

  const jump = (tag: number) => {
    const el = ref.current?.querySelector<HTMLElement>(`mark[data-finding~="${tag}"]`);
    if (!el) return;
    el.scrollIntoView({ block: 'center', behavior: 'smooth' });
    el.classList.remove('flash');
    void el.offsetWidth;
    el.classList.add('flash');
  };

  const body = (() => {
    if (error) return <p className="error-text">Could not load flow {id}: {error}</p>;
    if (!flow) return <p className="muted">Loading…</p>;
    const items: MarkItem[] = flow.findings.map((finding, tag) => ({ tag, finding }));
    const urlItems = items.filter((i) => i.finding.where === 'url');
    const query = queryOf(flow.url);
    const queryKeys = new Set(query.map(([k]) => k));
    // URL findings not on a query key (in the path, say) are marked in the request line itself.
    const lineItems = urlItems.filter((i) => !queryKeys.has(i.finding.path) && !queryKeys.has(String(parsePath(i.finding.path)[0] ?? '')));
    const cookieRows = cookiesOf(flow.requestHeaders);
    const reqCt = header(flow.requestHeaders, 'content-type');
    const resCt = header(flow.responseHeaders, 'content-type');
    const curl = toCurl(flow);
    // A WebSocket is its handshake and its messages: no body, and no cURL command that could repeat it.
    const webSocket = flow.kind === 'websocket';
    return (
      <>
        <section className="detail-section">
          <div className="request-line mono" data-testid="request-line">
            <span className="method">{flow.method}</span> <Marked text={flow.url} items={lineItems} wholeIfMissing={false} /> <span className="muted">{flow.httpVersion.startsWith('HTTP') ? flow.httpVersion : `HTTP/${flow.httpVersion}`}</span>
          </div>
          <div className="detail-meta">
            <span>
              <b>Status</b> {flow.error ? <span className="error-text">{flow.error}</span> : `${flow.status ?? '…'} ${flow.statusText ?? ''}`}
            </span>
            <span>
              <b>Device</b> {deviceName} <span className="muted">({flow.client})</span>
            </span>
            <span>
              <b>Destination</b> {flow.host}
              {flow.hostHeader ? ` · Host header ${flow.hostHeader}` : ''}
              {flow.destination?.ip ? ` · ${flow.destination.ip}` : ''}
              {flow.destination?.country ? ` · ${flow.destination.country}` : ''}
              {flow.destination?.scope && flow.destination.scope !== 'public' ? ` · ${flow.destination.scope} address` : ''}
              {flow.destination?.org ? ` · ${flow.destination.org}` : ''}
            </span>
            {flow.action ? (
              <span className={`action action-${flow.action}`}>{flow.action}</span>
            ) : null}
            {webSocket || flow.closedBy ? (
              <span data-testid="closed-by">{flow.closedBy ? `closed by ${flow.closedBy === 'client' ? 'the phone' : flow.closedBy === 'server' ? 'the server' : 'leakscope'}` : 'open'}</span>
            ) : null}
            {flow.tags.map((t) => (
              <span className="tag" key={t}>
                {t}
              </span>
            ))}
          </div>
          <div className="detail-actions">
            {webSocket ? null : (
              <button
                type="button"
                data-testid="copy-curl"
                onClick={async () => {
                  setShowCurl(true);
                  setCopied((await copyText(curl)) ? 'Copied to clipboard' : 'Copy failed: select the command below');
                }}
              >
                Copy as cURL
              </button>
            )}
            <a className="button" href={`/api/export.har?ids=${flow.id}`} download={flowHarName(flow)} data-testid="export-one">
              Export HAR
            </a>
            {copied ? <span className="muted small" role="status">{copied}</span> : null}
          </div>
          {showCurl ? (
            <pre className="code curl" data-testid="curl">
              {curl}
            </pre>
          ) : null}
        </section>

        <MarkPanel flow={flow} onSaved={setFlow} />

        <section className="detail-section" aria-labelledby="findings-h">
          <h3 id="findings-h">Findings ({flow.findings.length})</h3>
          {flow.findings.length === 0 ? (
            <p className="muted">No identifier found in this request.</p>
          ) : (
            <ul className="findings" data-testid="findings">
              {flow.findings.map((f, i) => (
                <li key={i}>
                  <button type="button" className="finding" onClick={() => jump(i)} title="Show where it is">
                    <TypeBadge type={f.type} />
                    <span className="f-where">
                      {f.where} <code>{f.path}</code>
                    </span>
                    <span className="f-enc">encoding: {f.encoding.split('+').join(' → ')}</span>
                    <span className={`f-conf conf-${f.confidence}`}>{f.confidence}</span>
                    <span className="f-value mono">{f.value}</span>
                    {f.contact ? <span className="small">{f.contact}</span> : null}
                    {f.device ? <span className="muted small">{f.device}</span> : null}
                    {f.source ? (
                      <span className="tag" title={`A value planted from the identifiers file's "${f.source}", found leaving this phone`} data-testid="finding-source">
                        {f.source === CANARY_DEVICE ? 'canary' : f.source}
                      </span>
                    ) : null}
                  </button>
                  <button
                    type="button"
                    className="link-button"
                    data-testid={`rule-from-finding-${i}`}
                    title={`A block rule for ${f.type} to ${flow.host}, to review in the Rules view`}
                    onClick={() => proposeRule({ match: { type: f.type, host: flow.host, ...((f.device ?? flow.device) ? { device: f.device ?? flow.device } : {}) }, action: 'block' })}
                  >
                    Make a rule
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>

        {webSocket ? (
          <section className="detail-section">
            <h3>Handshake request headers</h3>
            <KvTable rows={headerList(flow.requestHeaders)} items={items} where="header" caseless testid="request-headers" />
            <h3>
              Handshake response headers{flow.status ? ` (${flow.status} ${flow.statusText ?? ''})` : ''}
            </h3>
            {flow.responseHeaders ? <KvTable rows={headerList(flow.responseHeaders)} items={[]} where="header" testid="response-headers" /> : <p className="muted">The server did not answer.</p>}
            <WebSocketMessages flow={flow} items={items} />
          </section>
        ) : (
          <>
            <section className="detail-section">
              <h3>Query</h3>
              <KvTable rows={query} items={urlItems} where="url" testid="query" />
              <h3>Request headers</h3>
              <KvTable rows={headerList(flow.requestHeaders)} items={items} where="header" caseless testid="request-headers" />
              {cookieRows.length ? (
                <>
                  <h3>Cookies</h3>
                  <KvTable rows={cookieRows} items={items} where="cookie" testid="cookies" />
                </>
              ) : null}
              <h3>Request body</h3>
              <BodyView body={flow.requestBody} contentType={reqCt} items={items.filter((i) => i.finding.where === 'body')} testid="request-body" />
              {flow.sentBody || flow.sentUrl ? (
                <>
                  <h3>What left for the upstream (redacted)</h3>
                  {flow.sentUrl ? <p className="mono">{flow.sentUrl}</p> : null}
                  <BodyView body={flow.sentBody} contentType={reqCt} />
                </>
              ) : null}
            </section>

            <section className="detail-section">
              <h3>Response</h3>
              <p className="mono">
                {flow.status ? `${flow.status} ${flow.statusText ?? ''}` : flow.error ? `failed: ${flow.error}` : 'no response'}
              </p>
              <h3>Response headers</h3>
              <KvTable rows={headerList(flow.responseHeaders)} items={[]} where="header" />
              <h3>Response body</h3>
              <BodyView body={flow.responseBody} contentType={resCt} testid="response-body" />
            </section>
          </>
        )}

        <section className="detail-section">
          <h3>Timings</h3>
          <table className="kv">
            <tbody>
              <tr>
                <th scope="row">Started</th>
                <td>{formatDateTime(flow.timings.start)}</td>
              </tr>
              <tr>
                <th scope="row">Response headers after</th>
                <td>{flow.timings.wait !== undefined ? `${Math.round(flow.timings.wait)} ms` : '—'}</td>
              </tr>
              <tr>
                <th scope="row">{webSocket ? 'Closed after' : 'Complete after'}</th>
                <td>{flow.timings.total !== undefined ? `${Math.round(flow.timings.total)} ms` : '—'}</td>
              </tr>
            </tbody>
          </table>
        </section>
      </>
    );
  })();

  return (
    <HitsContext.Provider value={hits}>
      <aside className="detail" ref={ref} aria-label={`Flow ${id}`} data-testid="detail">
        <div className="detail-head">
          {/* Close sits on the left so the header's Export HAR menu, which drops down on the right, never covers it. */}
          <button type="button" onClick={onClose} aria-label="Close detail" data-testid="close-detail">
            ✕ Close
          </button>
          <h2>Flow #{id}</h2>
        </div>
        {body}
      </aside>
    </HitsContext.Provider>
  );
}
