// Log rows for the Logs panel tests.
import type { LogRow } from '../lib/bindings/LogRow';

/** The ith line of a synthetic stream: every tenth an error of one pattern, the rest info. */
export function logRow(i: number, over: Partial<LogRow> = {}): LogRow {
  return {
    kind: 'line',
    ts_ms: 1_700_000_000_000 + i,
    cluster: `aws/prod/eu-west-1/c${i % 3}`,
    namespace: 'shop',
    pod: `checkout-${i % 5}`,
    container: 'app',
    level: i % 10 === 0 ? 'error' : 'info',
    line: i % 10 === 0 ? `order ${i} rejected: code 503` : `GET /items/${i} 200`,
    truncated: false,
    pattern: i % 10 === 0 ? 'order <NUM> rejected: code <NUM>' : null,
    ...over,
  };
}
