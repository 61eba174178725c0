import { describe, expect, it } from 'vitest';
import type { LoginChallenge, Profile } from '../api/types';
import { translate } from '../lib/i18n';
import { messages } from './messages';
import './security-messages';
import { browserLabel, cleanCode, codeLooksValid, isChallenge, recoveryText, svgDataUri } from './security';

const profile: Profile = {
  account_id: 1, account_name: 'Shop', two_factor_setup_required: false,
  user: { id: 2, name: 'Mia', email: 'mia@shop.example', role: 'agent', languages: [] } as unknown as Profile['user'],
};
const challenge: LoginChallenge = { two_factor_required: true, challenge: 'abc', expires_at: '2026-06-01T08:05:00Z' };

describe('isChallenge', () => {
  it('tells the second step from a signed-in profile', () => {
    expect(isChallenge(challenge)).toBe(true);
    expect(isChallenge(profile)).toBe(false);
  });
});

describe('codes', () => {
  it('sends app codes without spaces and recovery codes as typed', () => {
    expect(cleanCode(' 123 456 ')).toBe('123456');
    expect(cleanCode(' abcde-fghjk ')).toBe('abcde-fghjk');
  });

  it('accepts six digits or a ten-character recovery code only', () => {
    expect(codeLooksValid('123456')).toBe(true);
    expect(codeLooksValid('123 456')).toBe(true);
    expect(codeLooksValid('12345')).toBe(false);
    expect(codeLooksValid('1234567')).toBe(false);
    expect(codeLooksValid('ABCDE-fghj2')).toBe(true);
    expect(codeLooksValid('abcde-fgh')).toBe(false);
    expect(codeLooksValid('')).toBe(false);
  });
});

describe('browserLabel', () => {
  it('names common browsers and systems', () => {
    expect(browserLabel('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0')).toBe('Firefox · Linux');
    expect(browserLabel('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 Edg/131.0'))
      .toBe('Edge · Windows');
    expect(browserLabel('Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15'))
      .toBe('Safari · macOS');
    expect(browserLabel('Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36'))
      .toBe('Chrome · Android');
    expect(browserLabel('curl/8.5.0')).toBe('curl');
    expect(browserLabel(null)).toBe('?');
  });
});

describe('recovery codes and the QR code', () => {
  it('lists the codes one per line under the account', () => {
    expect(recoveryText(['aaaaa-bbbbb', 'ccccc-ddddd'], 'Shop')).toBe('Ferry — Shop\naaaaa-bbbbb\nccccc-ddddd\n');
  });

  it('puts the SVG in an image address, escaped', () => {
    const uri = svgDataUri('<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>');
    expect(uri.startsWith('data:image/svg+xml;charset=utf-8,')).toBe(true);
    expect(uri).not.toContain('<');
    expect(decodeURIComponent(uri.split(',')[1])).toContain('<rect/>');
  });
});

describe('strings', () => {
  it('has every English key in Chinese too', () => {
    const en = Object.keys(messages.en).filter((k) => k.startsWith('security.') || k.startsWith('login.'));
    const missing = en.filter((k) => !(k in messages.zh));
    expect(missing).toEqual([]);
  });

  it('counts minutes and codes', () => {
    expect(translate(messages, 'en', 'login.locked', { minutes: 1 })).toBe('Too many failed attempts. Try again in 1 minute.');
    expect(translate(messages, 'en', 'security.codes_left', { count: 9 })).toBe('9 recovery codes left');
    expect(translate(messages, 'zh', 'error.code.two_factor_required')).toContain('两步验证');
  });
});
