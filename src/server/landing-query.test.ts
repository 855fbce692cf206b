import { describe, expect, it } from 'vitest';
import { landingQuery, listHref } from './landing-query.js';

describe('listHref', () => {
  it('keeps the filters and the FN plan\'s days from page to page', () => {
    const parsed = landingQuery({ source: 'atol cloud', state: 'check', days: '3' });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(listHref(parsed.query, 2)).toBe('?source=atol%20cloud&amp;state=check&amp;page=2&amp;days=3');
    expect(listHref({ state: 'ok' }, 1)).toBe('?state=ok');
  });
});
