import { useEffect, useState } from 'react';
import { identifiersSchema, parseIdentifiers, VALUE_FIELDS, type Device, type Identifiers as IdentifiersFile, type ValueField } from '../../../shared/identifiers';
import { ErrorBox, refusalOf } from '../lib/ErrorBox';
import { api } from '../store/api';
import { useUnsaved } from '../lib/unsaved';
import { typeLabel } from '../lib/labels';


/** The editor's model: every list as text, one value a line. */
interface DraftDevice {
  name: string;
  client: string;
  lists: Record<ValueField, string>;
  /** `Name; phone, phone; email, email` per line */
  contacts: string;
  /** `lat, lon` per line */
  location: string;
}

const lines = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
const commas = (s: string | undefined) =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

function toDraft(d: Device): DraftDevice {
  const lists = {} as Record<ValueField, string>;
  for (const f of VALUE_FIELDS) lists[f] = (d[f] ?? []).join('\n');
  return {
    name: d.name ?? '',
    client: d.client ?? '',
    lists,
    contacts: (d.contacts ?? []).map((c) => [c.name, c.phone.join(', '), c.email.join(', ')].join('; ')).join('\n'),
    location: (d.location ?? []).map((l) => `${l.lat}, ${l.lon}`).join('\n'),
  };
}

function fromDraft(d: DraftDevice): unknown {
  const out: Record<string, unknown> = { name: d.name.trim() };
  if (d.client.trim()) out.client = d.client.trim();
  for (const f of VALUE_FIELDS) out[f] = lines(d.lists[f]);
  out.contacts = lines(d.contacts).map((l) => {
    const [name, phones, emails] = l.split(';');
    return { name: (name ?? '').trim(), phone: commas(phones), email: commas(emails) };
  });
  // What is not a number stays as typed, so the message can quote it.
  out.location = lines(d.location).map((l) => {
    const [lat, lon] = l.split(',').map((x) => (x.trim() !== '' && Number.isFinite(Number(x)) ? Number(x) : x.trim() || undefined));
    return { lat, lon };
  });
  return out;
}

const emptyDraft = (): DraftDevice => toDraft(identifiersSchema.parse({ devices: [{}] }).devices[0]);

export function Identifiers() {
  const [drafts, setDrafts] = useState<DraftDevice[]>();
  const [raw, setRaw] = useState<string>();
  const [loadError, setLoadError] = useState('');
  const [errors, setErrors] = useState<string[]>([]);
  const [saved, setSaved] = useState('');
  const [busy, setBusy] = useState(false);
  const [canaries, setCanaries] = useState(10);
  // The form as loaded and the JSON as opened: what the editor holds is unsaved while it differs from them.
  const [baseline, setBaseline] = useState('');
  const [rawStart, setRawStart] = useState('');
  const dirty = drafts !== undefined && (JSON.stringify(drafts) !== baseline || (raw !== undefined && raw !== rawStart));
  useUnsaved(dirty, 'the identifiers');

  const load = () =>
    api<IdentifiersFile>('/api/identifiers')
      .then((file) => {
        const parsed = parseIdentifiers(file ?? {});
        const loaded = (parsed.ok ? parsed.value.devices : []).map(toDraft);
        setDrafts(loaded);
        setBaseline(JSON.stringify(loaded));
        setLoadError(parsed.ok ? '' : `The server's file does not validate: ${parsed.issues.map((i) => i.message).join('; ')}`);
      })
      .catch((e: Error) => setLoadError(e.message));
  useEffect(() => {
    void load();
  }, []);

  const update = (i: number, patch: Partial<DraftDevice>) => setDrafts((ds) => ds?.map((d, j) => (j === i ? { ...d, ...patch } : d)));

  const save = async () => {
    setErrors([]);
    setSaved('');
    let input: unknown;
    if (raw !== undefined) {
      try {
        input = JSON.parse(raw);
      } catch (e) {
        setErrors([`Not valid JSON: ${(e as Error).message}`]);
        return;
      }
    } else input = { devices: (drafts ?? []).map(fromDraft) };
    const parsed = parseIdentifiers(input);
    if (!parsed.ok) {
      setErrors(parsed.issues.map((i) => i.message));
      return;
    }
    setBusy(true);
    try {
      await api('/api/identifiers', { method: 'PUT', body: JSON.stringify(parsed.value) });
      setSaved('Saved. Detection uses the new values from now on.');
      setRaw(undefined);
      await load();
    } catch (e) {
      setErrors(refusalOf(e));
    } finally {
      setBusy(false);
    }
  };

  const openJson = () => {
    const text = JSON.stringify({ devices: (drafts ?? []).map(fromDraft) }, null, 2);
    setRaw(text);
    setRawStart(text);
  };
  // The JSON's edits go into the form when they validate; otherwise it stays open with what is wrong.
  const backToForm = () => {
    if (raw !== rawStart) {
      let parsed;
      try {
        parsed = parseIdentifiers(JSON.parse(raw ?? ''));
      } catch (e) {
        return setErrors([`Not valid JSON: ${(e as Error).message}`]);
      }
      if (!parsed.ok) return setErrors(parsed.issues.map((i) => i.message));
      setDrafts(parsed.value.devices.map(toDraft));
    }
    setErrors([]);
    setRaw(undefined);
  };

  // The server adds the canaries to the identifiers it watches for, so the form is reloaded to show them.
  const downloadCanaries = async () => {
    setErrors([]);
    setBusy(true);
    try {
      const vcf = await api<string>('/api/canaries.vcf', { method: 'POST', body: JSON.stringify({ count: canaries }), headers: { accept: 'text/vcard' } });
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([vcf], { type: 'text/vcard' }));
      link.download = 'leakscope-canaries.vcf';
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
      setSaved(`${canaries} canary contacts added to the identifiers. Import the file into the phone's contacts.`);
      await load();
    } catch (e) {
      setErrors(refusalOf(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page">
      <div className="page-head">
        <h2>Identifiers</h2>
        <div className="row-actions">
          <label className="field inline">
            <span className="field-label">Canary contacts</span>
            <input type="number" min={1} max={500} value={canaries} onChange={(e) => setCanaries(Math.max(1, Math.min(500, Number(e.target.value) || 10)))} style={{ width: '5em' }} />
          </label>
          {/* The server adds the canaries to the saved file and the form reloads it: unsaved edits would go. */}
          <button
            type="button"
            onClick={() => void downloadCanaries()}
            disabled={busy || dirty}
            title={dirty ? 'Save or undo your changes first: the canaries are added to the saved identifiers' : undefined}
            data-testid="canaries"
          >
            Download vCard
          </button>
        </div>
      </div>
      <p className="muted">
        What you know about the phones under test. Exact values here are found in any encoding and reported as <b>known</b>. One value a line. Contacts: <code>Name; phone, phone; email</code>. Locations: <code>lat, lon</code>. Canary contacts are fake people to import into the phone's address book: any app that uploads them is caught.
      </p>
      {loadError ? <p className="error-text">{loadError}</p> : null}
      <div className="detail-actions">
        <button type="button" onClick={raw === undefined ? openJson : backToForm}>
          {raw === undefined ? 'Edit as JSON' : 'Back to the form'}
        </button>
        {raw === undefined ? (
          <button type="button" onClick={() => setDrafts((ds) => [...(ds ?? []), emptyDraft()])}>
            + Add device
          </button>
        ) : null}
        <button type="button" className="primary" onClick={save} disabled={busy || !drafts} data-testid="save-identifiers">
          Save
        </button>
        {saved ? <span className="ok-text" role="status">{saved}</span> : null}
      </div>
      <ErrorBox errors={errors} testId="identifier-errors" />
      {raw !== undefined ? (
        <textarea className="raw-json mono" value={raw} onChange={(e) => setRaw(e.target.value)} spellCheck={false} aria-label="Identifiers file as JSON" />
      ) : (
        (drafts ?? []).map((d, i) => (
          <fieldset className="device-card" key={i}>
            <legend>
              Device {i + 1}
              {d.name ? `: ${d.name}` : ''}
            </legend>
            <div className="device-grid">
              <label className="field">
                <span className="field-label">Name</span>
                <input value={d.name} onChange={(e) => update(i, { name: e.target.value })} />
              </label>
              <label className="field">
                <span className="field-label">Client IP</span>
                <input value={d.client} onChange={(e) => update(i, { client: e.target.value })} placeholder="192.168.1.23" />
              </label>
              {VALUE_FIELDS.map((f) => (
                <label className="field" key={f}>
                  <span className="field-label">{typeLabel(f)}</span>
                  <textarea rows={2} value={d.lists[f]} onChange={(e) => update(i, { lists: { ...d.lists, [f]: e.target.value } })} spellCheck={false} />
                </label>
              ))}
              <label className="field wide">
                <span className="field-label">Contacts</span>
                <textarea rows={3} value={d.contacts} onChange={(e) => update(i, { contacts: e.target.value })} spellCheck={false} />
              </label>
              <label className="field">
                <span className="field-label">Location</span>
                <textarea rows={2} value={d.location} onChange={(e) => update(i, { location: e.target.value })} spellCheck={false} />
              </label>
            </div>
            <button type="button" className="link-button danger" onClick={() => setDrafts((ds) => ds?.filter((_, j) => j !== i))}>
              Remove this device
            </button>
          </fieldset>
        ))
      )}
      {drafts && drafts.length === 0 && raw === undefined ? <p className="empty">No device yet: add one, or rely on pattern detection.</p> : null}
    </div>
  );
}
