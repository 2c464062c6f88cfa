import { useState } from 'react';
import type { DeviceInfo } from '../../../shared/api';
import { api } from '../store/api';
import { useApi, useStoreValue } from '../store/useStore';
import { store } from '../store/flowStore';
import { formatDateTime } from '../lib/format';
import { EMPTY_FILTER } from '../lib/filter';
import { navigate } from '../lib/route';
import { sessionQuery } from '../store/sessionStore';
import { InstancePicker } from '../lib/InstancePicker';
import { useUnsaved } from '../lib/unsaved';

function RenameForm({ device, onDone }: { device: DeviceInfo; onDone: () => void }) {
  const [name, setName] = useState(device.name ?? '');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  // What the server holds: the name as it came, then as last saved (before the list reloads with it).
  const [savedAs, setSavedAs] = useState((device.name ?? '').trim());
  useUnsaved(name.trim() !== savedAs, `the name of ${device.client}`);
  return (
    <form
      className="rename"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError('');
        try {
          await api(`/api/devices/${encodeURIComponent(device.client)}`, { method: 'PUT', body: JSON.stringify({ name: name.trim() }) });
          setSavedAs(name.trim());
          onDone();
        } catch (err) {
          setError((err as Error).message);
        } finally {
          setBusy(false);
        }
      }}
    >
      <label className="sr-only" htmlFor={`name-${device.client}`}>
        Name for {device.client}
      </label>
      <input id={`name-${device.client}`} value={name} onChange={(e) => setName(e.target.value)} placeholder="name this device" maxLength={100} />
      <button type="submit" disabled={busy}>
        Rename
      </button>
      {error ? <span className="error-text small">{error}</span> : null}
    </form>
  );
}

const COLUMNS = ['Client', 'Name', 'Flows', 'Flagged', 'Findings', 'Last seen'];

/** Every client IP seen, as a device: its flows, findings and last activity. */
export function Devices() {
  const version = useStoreValue((s) => s.all.length + s.held.length + s.flaggedSeen);
  const session = useStoreValue((s) => s.session);
  const [instance, setInstance] = useState('');
  const { data, error, reload } = useApi<DeviceInfo[]>(`/api/devices${sessionQuery(session, '?', instance)}`, `${version}:${instance}`, 2000);
  // A dashboard node's devices are each behind an instance, and are renamed in that instance's dashboard.
  const lab = data?.some((d) => d.instance !== undefined) ?? false;
  const show = (d: DeviceInfo, flagged: boolean) => {
    store.resetFilter({ ...EMPTY_FILTER, device: d.name || d.client, flagged });
    navigate({ view: 'feed' });
  };
  return (
    <div className="page">
      <div className="page-head">
        <h2>Devices</h2>
        <InstancePicker value={instance} onChange={setInstance} testId="devices-instance" />
      </div>
      <p className="muted">
        {lab
          ? 'Each phone behind each instance of the lab. Names come from each instance; rename a phone in its instance\'s dashboard.'
          : <>Each client address that used the proxy. Names come from the identifiers file when its <code>client</code> matches; rename here.</>}
      </p>
      {error ? <p className="error-text">Could not load devices: {error}</p> : null}
      {!data && !error ? <p className="muted">Loading…</p> : null}
      {data && data.length === 0 ? <p className="empty">No device has used the proxy yet.</p> : null}
      {data && data.length > 0 ? (
        // At phone width each row is a card of label and value (styles.css): every column stays in sight without
        // sideways scrolling, and the rename field gets the card's width. The roles keep it a table to screen
        // readers once CSS has made its parts blocks.
        <table className="grid devices-table" data-testid="devices" role="table">
          <thead role="rowgroup">
            <tr role="row">
              {(lab ? ['Instance', ...COLUMNS] : COLUMNS).map((c) => (
                <th scope="col" role="columnheader" key={c}>
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody role="rowgroup">
            {data.map((d) => (
              <tr key={`${d.instance ?? ''}/${d.client}`} role="row">
                {lab ? (
                  <td role="cell" data-label="Instance">
                    {d.instance}
                  </td>
                ) : null}
                <td role="cell" data-label="Client" className="mono">
                  {d.client}
                </td>
                <td role="cell" data-label="Name">
                  {lab ? (d.name ?? '') : <RenameForm key={d.name ?? ''} device={d} onDone={reload} />}
                </td>
                <td role="cell" data-label="Flows">
                  <button type="button" className="link-button" onClick={() => show(d, false)}>
                    {d.flows.toLocaleString()}
                  </button>
                </td>
                <td role="cell" data-label="Flagged">
                  <button type="button" className="link-button" onClick={() => show(d, true)}>
                    {d.flagged.toLocaleString()}
                  </button>
                </td>
                <td role="cell" data-label="Findings">
                  {d.findings.toLocaleString()}
                </td>
                <td role="cell" data-label="Last seen">
                  {formatDateTime(d.lastSeen)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}
