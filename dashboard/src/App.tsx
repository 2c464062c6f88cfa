import { useEffect } from 'react';
import { Header } from './Header/Header';
import { Feed } from './Feed/Feed';
import { Matrix } from './Matrix/Matrix';
import { Devices } from './Devices/Devices';
import { Identifiers } from './Identifiers/Identifiers';
import { Rules } from './Rules/Rules';
import { Setup } from './Setup/Setup';
import { Sessions } from './Sessions/Sessions';
import { Diff } from './Diff/Diff';
import { store } from './store/flowStore';
import { navigate, useRoute } from './lib/route';
import { KeyboardHelp } from './lib/KeyboardHelp';
import { LeaveDialog } from './lib/LeaveDialog';

export function App() {
  const route = useRoute();
  useEffect(() => {
    void store.start();
  }, []);
  return (
    <div className="app">
      {/* Before the header's sixteen tab stops. A button-like link: a plain #fragment would change the route. */}
      <a
        className="skip-link"
        href="#feed-list"
        onClick={(e) => {
          e.preventDefault();
          if (route.view !== 'feed') navigate({ view: 'feed' });
          requestAnimationFrame(() => document.getElementById('feed-list')?.focus());
        }}
        data-testid="skip-link"
      >
        Skip to the flow list
      </a>
      <Header route={route} />
      <main className="content">
        {route.view === 'feed' ? <Feed openId={route.flowId} /> : null}
        {route.view === 'matrix' ? <Matrix /> : null}
        {route.view === 'sessions' ? <Sessions /> : null}
        {route.view === 'diff' ? <Diff /> : null}
        {route.view === 'devices' ? <Devices /> : null}
        {route.view === 'identifiers' ? <Identifiers /> : null}
        {route.view === 'rules' ? <Rules /> : null}
        {route.view === 'setup' ? <Setup /> : null}
      </main>
      <KeyboardHelp />
      <LeaveDialog />
    </div>
  );
}
