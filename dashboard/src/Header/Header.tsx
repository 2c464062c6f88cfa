import { useStore } from '../store/useStore';
import { hrefOf, VIEWS, type Route } from '../lib/route';
import { SessionPicker } from './SessionPicker';
import { ExportMenu } from './ExportMenu';

export function Header({ route }: { route: Route }) {
  const s = useStore();
  const query = s.viewQuery();
  return (
    <header className="header">
      <div className="brand">
        <span className="logo" aria-hidden="true">◉</span> leakscope
      </div>
      <nav className="tabs" aria-label="Views">
        {VIEWS.map((v) => (
          <a key={v.id} href={hrefOf({ view: v.id })} className={route.view === v.id ? 'tab active' : 'tab'} aria-current={route.view === v.id ? 'page' : undefined}>
            {v.label}
            {v.id === 'setup' && s.tlsErrors.length > 0 ? <span className="pill warn" title="Hosts whose TLS with leakscope failed">{s.tlsErrors.length}</span> : null}
          </a>
        ))}
      </nav>
      <div className="header-right">
        <SessionPicker />
        <span className={`conn conn-${s.connection}`} role="status" data-testid="connection">
          {s.connection === 'live' ? '● live' : s.connection === 'connecting' ? '○ connecting' : '○ offline, retrying'}
        </span>
        <ExportMenu query={query} route={route} />
      </div>
    </header>
  );
}
