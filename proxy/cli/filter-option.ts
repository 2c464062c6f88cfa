// `--filter EXPR` of export and scan: parsed before any work, a bad expression is bad usage (exit 2).
import { FilterError, parseFilter, type FilterExpr } from '../../shared/filter';
import { UsageError } from './errors';

export function filterOption(src: string | undefined): FilterExpr | undefined {
  if (src === undefined) return undefined;
  try {
    return parseFilter(src);
  } catch (err) {
    if (err instanceof FilterError) throw new UsageError(`--filter: ${err.message}`);
    throw err;
  }
}
