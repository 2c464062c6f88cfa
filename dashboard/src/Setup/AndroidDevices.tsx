import { useState } from 'react';
import {
  addFoundIdentifiers,
  describeDevice,
  FOUND_FIELDS,
  foundCount,
  type AndroidDeviceEntry,
  type AndroidDevicesResponse,
  type AndroidSetupResult,
} from '../../../shared/android';
import type { Identifiers } from '../../../shared/identifiers';
import { api } from '../store/api';
import { useApi } from '../store/useStore';

function SetupResult({ result }: { result: AndroidSetupResult }) {
  const [added, setAdded] = useState('');
  const add = async () => {
    try {
      const current = await api<Identifiers>('/api/identifiers');
      await api('/api/identifiers', { method: 'PUT', body: JSON.stringify(addFoundIdentifiers(current, result.deviceName, result.identifiers)) });
      setAdded(`Added to the identifiers as “${result.deviceName}”.`);
    } catch (err) {
      setAdded(`Could not add them: ${(err as Error).message}`);
    }
  };
  const ca = result.ca;
  return (
    <div className="android-result" data-testid={`android-result-${result.serial}`}>
      <p>
        Proxy setting <span className="mono">{result.proxy}</span>
        {result.reverse ? ' through adb reverse' : ''}.{' '}
        {ca?.kind === 'system' ? (
          <>
            CA <span className="mono">{ca.name}</span> in <span className="mono">{ca.store}</span> ({ca.certificates} certificates, {ca.namespaces} mount namespaces) until the phone reboots.
          </>
        ) : ca?.kind === 'user' ? (
          <>On the phone: {ca.taps}.</>
        ) : null}
      </p>
      <ul className="small">
        {FOUND_FIELDS.flatMap((f) => result.identifiers[f].map((v) => <li key={`${f}-${v}`}>{f}: <span className="mono">{v}</span></li>))}
        {result.identifiers.missing.map((m) => (
          <li key={m} className="muted">{m}</li>
        ))}
      </ul>
      {foundCount(result.identifiers) > 0 ? (
        <p>
          <button type="button" onClick={add}>
            Add them to the identifiers as “{result.deviceName}”
          </button>{' '}
          {added ? <span className="small">{added}</span> : null}
        </p>
      ) : null}
    </div>
  );
}

function DeviceRow({ entry, onChange }: { entry: AndroidDeviceEntry; onChange: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [result, setResult] = useState<AndroidSetupResult>();
  const call = async (what: 'setup' | 'undo') => {
    setBusy(true);
    setError('');
    try {
      const body = await api<AndroidSetupResult | { ok: true }>(`/api/android/${what}`, { method: 'POST', body: JSON.stringify({ serial: entry.serial }) });
      setResult(what === 'setup' ? (body as AndroidSetupResult) : undefined);
      onChange();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <tr>
      <td className="mono">{entry.serial}</td>
      <td>{entry.state}</td>
      <td>
        {entry.facts ? describeDevice(entry.facts) : <span className="error-text">{entry.problem}</span>}
        {entry.plan ? (
          <ul className="small">
            {entry.plan.map((step) => (
              <li key={step}>{step}</li>
            ))}
          </ul>
        ) : null}
        {error ? <div className="error-text small">{error}</div> : null}
        {result ? <SetupResult result={result} /> : null}
      </td>
      <td>
        <button type="button" className="primary" disabled={busy || !entry.facts} onClick={() => call('setup')}>
          Set up
        </button>{' '}
        <button type="button" disabled={busy || !entry.facts} onClick={() => call('undo')}>
          Undo
        </button>
      </td>
    </tr>
  );
}

/** Phones on the adb server: what each is and what "Set up" does to it (the same as `leakscope android`). */
export function AndroidDevices() {
  const [key, setKey] = useState(0);
  const { data, error } = useApi<AndroidDevicesResponse>('/api/android/devices', key, 0);
  const refresh = () => setKey((k) => k + 1);
  return (
    <section className="android-devices">
      <h3>Phones over ADB</h3>
      <p className="muted">
        The same as <code>leakscope android</code>: the CA into the system store where the phone is rooted or an emulator (else to Downloads and the certificate installer), then <code>adb reverse</code> and the phone's global proxy setting. Undo clears the setting and the reverse; leakscope also does so when it stops.{' '}
        <button type="button" onClick={refresh}>
          Refresh
        </button>
      </p>
      {error ? <p className="error-text">Could not list ADB devices: {error}</p> : null}
      {data?.error ? <p className="muted" data-testid="adb-error">{data.error}</p> : null}
      {data && !data.error && data.devices.length === 0 ? <p className="empty">No device on the adb server. Connect one with USB debugging on, or start an emulator.</p> : null}
      {data && data.devices.length > 0 ? (
        <table className="grid" data-testid="android-devices">
          <thead>
            <tr>
              <th scope="col">Serial</th>
              <th scope="col">State</th>
              <th scope="col">Device, and what Set up does</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {data.devices.map((d) => (
              <DeviceRow key={d.serial} entry={d} onChange={refresh} />
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
