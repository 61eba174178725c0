import { describe, expect, it } from 'vitest';
import { applyCanned, renderTemplate, searchCanned, slashQuery, DEFAULT_CANNED } from './canned';

describe('renderTemplate', () => {
  it('fills known variables and leaves unknown ones visible', () => {
    expect(renderTemplate('Hi {{contact.name}}, order {{ order.number }}', { 'contact.name': 'Emily', 'order.number': '#1001' }))
      .toBe('Hi Emily, order #1001');
    expect(renderTemplate('Hi {{contact.name}}', {})).toBe('Hi {{contact.name}}');
    expect(renderTemplate('Hi {{contact.name}}', { 'contact.name': '' })).toBe('Hi {{contact.name}}');
  });
});

describe('slashQuery', () => {
  it('finds a slash command at the caret only at a word start', () => {
    expect(slashQuery('/tra', 4)).toBe('tra');
    expect(slashQuery('hello /', 7)).toBe('');
    expect(slashQuery('and/or', 6)).toBeNull();
    expect(slashQuery('/hello there', 12)).toBeNull();
  });
});

describe('searchCanned', () => {
  it('puts short-code prefixes first', () => {
    const r = searchCanned(DEFAULT_CANNED, 'th');
    expect(r[0].short_code).toBe('thanks');
    expect(r.map((c) => c.short_code)).toContain('hello');
  });
});

describe('applyCanned', () => {
  it('replaces the slash query and moves the caret after the insert', () => {
    expect(applyCanned('ok /hel tail', 7, 'Hi!')).toEqual({ text: 'ok Hi! tail', caret: 6 });
  });
});
