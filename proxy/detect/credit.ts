// Planted values (canaries) belong to no phone in the identifiers file: the phone that sends one leaked it.
import type { Finding } from '../../shared/types';

/**
 * The findings with each planted one (a `source`, no `device`) credited to `device`, the phone that sent it.
 * Always a new list, so an open flow's own keeps growing apart from what was saved.
 */
export function credited(findings: Finding[], device: string | undefined): Finding[] {
  return findings.map((f) => (device && f.source && !f.device ? { ...f, device } : f));
}
