// What one scan may spend on costly validations. A phone number's validation (libphonenumber, up to one parse
// per fallback country) costs 10–60 µs; a body of 50,000 phone-like strings in a list would otherwise hold the
// event loop, and every other phone's traffic, for seconds.

/**
 * Phone candidates one scan validates at most: as many as a large address book holds, and about 60 ms of
 * validation when none is written with its country code (about 12 ms when all are). Past it, the flow is
 * tagged and the body, stored, still holds every number.
 */
export const PHONE_VALIDATIONS_PER_SCAN = 1_000;

export class ScanBudget {
  private phoneValidations = PHONE_VALIDATIONS_PER_SCAN;
  /** some candidate went unvalidated, so unreported, because the budget ran out */
  exhausted = false;

  /** Spends one phone validation; false (and `exhausted`) when none is left. */
  takePhoneValidation(): boolean {
    if (this.phoneValidations > 0) {
      this.phoneValidations--;
      return true;
    }
    this.exhausted = true;
    return false;
  }
}
