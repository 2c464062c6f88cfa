import type { ChangeEvent } from 'react';
import { useApi } from '../store/useStore';

/** Narrows a view to one instance's flows, where the store holds several (a lab's dashboard node); else nothing. */
export function InstancePicker(props: { value: string; onChange: (instance: string) => void; testId: string }) {
  const { data } = useApi<string[]>('/api/instances', 0, 0);
  if (!data || (data.length < 2 && !props.value)) return null;
  return (
    <label className="field inline">
      <span className="field-label">Instance</span>
      <select value={props.value} onChange={(e: ChangeEvent<HTMLSelectElement>) => props.onChange(e.target.value)} data-testid={props.testId}>
        <option value="">All instances</option>
        {data.map((i) => (
          <option key={i} value={i}>
            {i}
          </option>
        ))}
      </select>
    </label>
  );
}
