import { describe, expect, it } from 'vitest';
import { applyCanned, renderTemplate, searchCanned, slashQuery, SHORT_CODE_PATTERN, unfilled, type Canned } from './canned';

const LIST: Canned[] = [
  { short_code: 'hello', content: 'Hi {{contact.name}}, thanks for reaching out! How can I help?' },
  { short_code: 'refund', content: 'Your refund has been issued; it usually shows up within 3–5 business days.' },
  { short_code: 'thanks', content: 'Thank you for your patience, {{contact.name}}!' },
];

describe('renderTemplate', () => {
  it('fills known variables and leaves unknown ones visible', () => {
    expect(renderTemplate('Hi {{contact.name}}, order {{ order.number }}', { 'contact.name': 'Emily', 'order.number': '#1001' }))
      .toBe('Hi Emily, order #1001');
    expect(renderTemplate('Your tracking link: {{order.tracking_url}}', {})).toBe('Your tracking link: {{order.tracking_url}}');
  });

  it('reads well without the name of an anonymous buyer', () => {
    expect(renderTemplate('Hi {{contact.name}}, thanks for reaching out!', {})).toBe('Hi, thanks for reaching out!');
    expect(renderTemplate('Thank you for your patience, {{contact.name}}!', { 'contact.name': '' })).toBe('Thank you for your patience!');
    expect(renderTemplate('{{contact.name}}, your order shipped.', {})).toBe('your order shipped.');
    expect(renderTemplate('您好 {{contact.name}}，感谢您的耐心！', {})).toBe('您好，感谢您的耐心！');
  });

  it('names what is left unfilled, so it is never sent', () => {
    expect(unfilled('Track it at {{order.tracking_url}} ({{ order.tracking_url }}), {{agent.name}}')).toEqual(['order.tracking_url', 'agent.name']);
    expect(unfilled('All filled.')).toEqual([]);
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
    const r = searchCanned(LIST, 'th');
    expect(r.map((c) => c.short_code)).toEqual(['thanks', 'hello', 'refund']);
    expect(searchCanned(LIST, 'BUSINESS').map((c) => c.short_code)).toEqual(['refund']);
    expect(searchCanned([], 'th')).toEqual([]);
  });
});

describe('applyCanned', () => {
  it('replaces the slash query and moves the caret after the insert', () => {
    expect(applyCanned('ok /hel tail', 7, 'Hi!')).toEqual({ text: 'ok Hi! tail', caret: 6 });
  });
});

describe('SHORT_CODE_PATTERN', () => {
  // Browsers compile an input's `pattern` with the `v` flag, anchored.
  const re = new RegExp(`^(?:${SHORT_CODE_PATTERN})$`, 'v');
  it('accepts what the server accepts', () => {
    expect(re.test('refund-policy_2')).toBe(true);
    expect(re.test('a'.repeat(64))).toBe(true);
  });
  it('refuses what the server refuses', () => {
    for (const bad of ['', 'a'.repeat(65), 'has space', '/hello', 'café']) expect(re.test(bad), bad).toBe(false);
  });
});
