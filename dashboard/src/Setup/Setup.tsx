import type { ServerConfig } from '../../../shared/api';
import type { TlsFailureKind } from '../../../shared/types';
import { useApi, useStore } from '../store/useStore';
import { formatDateTime } from '../lib/format';
import { AndroidDevices } from './AndroidDevices';

export function Setup() {
  const s = useStore();
  const { data: config } = useApi<ServerConfig>('/api/config');
  return (
    <div className="page setup">
      <h2>Set up a phone</h2>
      <p>
        <a className="button primary" href="/setup" target="_blank" rel="noopener noreferrer">
          Open the setup page (QR code, CA download, Android and iOS steps)
        </a>
      </p>
      {config ? (
        <p>
          Proxy port <b className="mono">{config.proxy.port}</b>
          {config.proxy.lanAddresses.length ? (
            <>
              {' '}on <span className="mono">{config.proxy.lanAddresses.join(', ')}</span>
            </>
          ) : null}
          . From the phone, <span className="mono">http://leakscope.setup/</span> opens the same page through the proxy.
        </p>
      ) : null}

      <AndroidDevices />

      <div className="warning-box" role="note">
        <h3>Android 7 and later: apps ignore user-installed CAs</h3>
        <p>
          Since Android 7 (API 24), an app that targets it trusts only the system CA store unless it opts in. Installing the leakscope CA from Settings covers the browser and apps that opt in; most apps' HTTPS will fail and show up below as hosts that refused our certificate. What testers do about it:
        </p>
        <ul>
          <li>
            <b>Use an emulator (or a rooted test phone) with the CA in the system store.</b> "Set up" above (or <code>leakscope android</code>) puts it there over ADB on a rooted phone or an emulator image that allows <code>adb root</code> (Google APIs, not Google Play), until the next reboot.
          </li>
          <li>
            <b>Build the app in debug with a network security config</b> that trusts user CAs (<code>&lt;debug-overrides&gt;</code> or <code>&lt;certificates src="user"/&gt;</code>), when you have its source.
          </li>
          <li>
            <b>Unpin at run time with an app-side tool</b> (Frida-based unpinning scripts, objection, or a repackaging tool such as apk-mitm) for apps you cannot rebuild. Apps that pin certificates also need this even with the CA in the system store.
          </li>
        </ul>
      </div>

      <h3>Hosts whose TLS with leakscope failed ({s.tlsErrors.length})</h3>
      <p className="muted">Traffic to these hosts is not visible. What happened tells you what to do about it.</p>
      {s.tlsErrors.length === 0 ? (
        <p className="empty">None so far.</p>
      ) : (
        <table className="grid" data-testid="tls-errors">
          <thead>
            <tr>
              <th scope="col">Host</th>
              <th scope="col">Device</th>
              <th scope="col">What happened</th>
              <th scope="col">Times</th>
              <th scope="col">First seen</th>
              <th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {s.tlsErrors.map((e) => (
              <tr key={`${e.client}-${e.host}-${e.kind}`} data-kind={e.kind}>
                <td className="mono">{e.host}</td>
                <td>{s.deviceName(e.client)}</td>
                <td className="small">
                  <b>{TLS_FAILURE_LABELS[e.kind] ?? e.kind}</b>
                  <br />
                  {e.message}
                </td>
                <td>{e.count}</td>
                <td>{formatDateTime(e.firstSeen)}</td>
                <td>{formatDateTime(e.lastSeen)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** What each kind of TLS failure asks of the tester. */
const TLS_FAILURE_LABELS: Record<TlsFailureKind, string> = {
  untrusted: 'Our CA is not trusted: install it, or the app ignores user CAs (see above)',
  incompatible: 'No TLS version, cipher or protocol in common: a leakscope limit, not the app',
  'closed-after-handshake': 'Likely certificate pinning: closed right after the handshake',
  other: 'The handshake broke off',
};
