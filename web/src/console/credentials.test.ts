import { describe, expect, it } from 'vitest';
import { linkToken, passwordProblem, publicPage, revocable, stateKey } from './credentials';
import { credentialsMessages } from './credentials-messages';
import { describeError } from './logic';
import { translate } from '../lib/i18n';
import { messages } from './messages';

describe('links from e-mails', () => {
  it('open the reset and invitation pages, nothing else', () => {
    expect(publicPage('/reset-password')).toBe('reset');
    expect(publicPage('/reset-password/')).toBe('reset');
    expect(publicPage('/accept-invitation')).toBe('accept');
    expect(publicPage('/')).toBeNull();
    expect(publicPage('/reset-password/x')).toBeNull();
  });

  it('carry a hex token', () => {
    const token = 'ab'.repeat(32);
    expect(linkToken(`?token=${token}`)).toBe(token);
    expect(linkToken(`?x=1&token=${token}&y=2`)).toBe(token);
    expect(linkToken('?token=<script>')).toBeNull();
    expect(linkToken('')).toBeNull();
  });
});

describe('new passwords', () => {
  it('are checked for length and repetition before sending', () => {
    expect(passwordProblem('short', 'short')).toBe('password_too_short');
    expect(passwordProblem('x'.repeat(129), 'x'.repeat(129))).toBe('password_too_long');
    expect(passwordProblem('tulip-harbour', 'tulip-harbor')).toBe('password_mismatch');
    expect(passwordProblem('tulip-harbour', 'tulip-harbour')).toBeNull();
    // Characters, not UTF-16 units.
    expect(passwordProblem('密码密码密码密码密码', '密码密码密码密码密码')).toBeNull();
  });
});

describe('invitations', () => {
  it('only pending ones can be revoked', () => {
    expect(revocable({ state: 'pending' })).toBe(true);
    for (const state of ['accepted', 'revoked', 'expired'] as const) expect(revocable({ state })).toBe(false);
    expect(stateKey({ state: 'expired' })).toBe('invite.state.expired');
  });
});

describe('the strings', () => {
  it('exist in both languages and reach the catalog', () => {
    expect(Object.keys(credentialsMessages.zh).sort()).toEqual(Object.keys(credentialsMessages.en).sort());
    expect(translate(messages, 'zh', 'invite.state.pending')).toBe('待接受');
  });

  it('translate the server codes', () => {
    const e = { code: 'password_too_common', message: 'this password is too common' };
    expect(describeError(e, 'zh', (k) => translate(messages, 'zh', k))).toBe('这个密码太常见，容易被猜到，请换一个。');
    const csrf = { code: 'cross_origin_request', message: 'x' };
    expect(describeError(csrf, 'zh', (k) => translate(messages, 'zh', k))).toContain('Ferry');
  });
});
