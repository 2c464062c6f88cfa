// The `foreign` flag: identifiers left for a country other than the tester's home country.
import type { Destination, Finding } from '../../shared/types';
import { UsageError } from '../cli/errors';

export const FOREIGN_TAG = 'foreign';

/** `--home-country`: an ISO 3166-1 alpha-2 code, as geoip-country reports countries. */
export function parseHomeCountry(value: string): string {
  if (!/^[A-Za-z]{2}$/.test(value)) throw new UsageError(`--home-country ${value}: expected a two-letter country code such as CN or DE`);
  return value.toUpperCase();
}

/**
 * @param leaked the findings whose values actually left (not blocked, not redacted)
 * @param home the tester's home country; without one nothing is foreign
 */
export function isForeign(destination: Destination, leaked: readonly Finding[], home: string | undefined): boolean {
  return !!home && leaked.length > 0 && destination.country !== undefined && destination.country !== home;
}
