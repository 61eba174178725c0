import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without types
import { WIDGET_BUDGET, widgetSize } from '../../scripts/size.mjs';

describe('widget bundle', () => {
  it('stays under its gzip budget (run `npm run build` first)', () => {
    const path = new URL('../../dist/widget.js', import.meta.url);
    expect(existsSync(path), 'dist/widget.js is missing: run `npm run build` before `npm test`').toBe(true);
    const { gzip } = widgetSize(path.pathname);
    expect(gzip).toBeGreaterThan(1000);
    expect(gzip).toBeLessThan(WIDGET_BUDGET);
  });
});
