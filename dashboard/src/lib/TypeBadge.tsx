import { typeColor, typeLabel } from './labels';

/** Identifier type as a coloured badge that always says its name. */
export function TypeBadge({ type, count }: { type: string; count?: number }) {
  return (
    <span className="badge" data-type={type} style={{ borderColor: typeColor(type), color: typeColor(type) }}>
      <span className="badge-dot" style={{ background: typeColor(type) }} aria-hidden="true" />
      {typeLabel(type)}
      {count && count > 1 ? <span className="badge-count">×{count}</span> : null}
    </span>
  );
}
