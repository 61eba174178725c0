import { describe, expect, it } from 'vitest';
import { translate } from '../lib/i18n';
import { messages } from './messages';
import './privacy-messages';
import { privacyMessages } from './privacy-messages';
import {
  PERMISSIONS, contactMasked, emptyRoleForm, isMasked, mayUnmask, roleForm, rolePayload, retentionPayload, togglePermission,
} from './privacy';

describe('role editor', () => {
  it('turns the form into a request, the limit in minor units', () => {
    const f = { ...emptyRoleForm(), name: ' Night shift ', refundLimit: '49,90', permissions: ['reply', 'view'] as const };
    expect(rolePayload({ ...f, permissions: [...f.permissions] })).toEqual({
      ok: true, body: { name: 'Night shift', permissions: ['view', 'reply'], refund_limit_minor: 4990 },
    });
    expect(rolePayload({ ...emptyRoleForm(), name: 'X' })).toMatchObject({ ok: true, body: { refund_limit_minor: null } });
  });

  it('names the wrong field', () => {
    expect(rolePayload({ ...emptyRoleForm(), name: '  ' })).toEqual({ ok: false, field: 'name' });
    expect(rolePayload({ ...emptyRoleForm(), name: 'Admin' })).toEqual({ ok: false, field: 'name' });
    expect(rolePayload({ ...emptyRoleForm(), name: 'X', refundLimit: '-1' })).toEqual({ ok: false, field: 'refund_limit' });
    expect(rolePayload({ ...emptyRoleForm(), name: 'X', refundLimit: 'ten' })).toEqual({ ok: false, field: 'refund_limit' });
  });

  it('reads a role back and keeps the permissions in order', () => {
    const r = { name: 'Support', permissions: ['reply', 'view', 'gone'], refund_limit_minor: 2500 };
    expect(roleForm(r)).toEqual({ name: 'Support', permissions: ['view', 'reply'], refundLimit: '25' });
    expect(roleForm({ ...r, refund_limit_minor: null }).refundLimit).toBe('');
    expect(togglePermission(['reply'], 'view')).toEqual(['view', 'reply']);
    expect(togglePermission(['view', 'reply'], 'view')).toEqual(['reply']);
  });

  it('has words for every permission in both languages', () => {
    for (const p of PERMISSIONS) {
      expect(privacyMessages.en[`perm.${p}`]).toBeTruthy();
      expect(privacyMessages.zh[`perm.${p}`]).toBeTruthy();
    }
    expect(Object.keys(privacyMessages.zh).sort()).toEqual(Object.keys(privacyMessages.en).sort());
    expect(translate(messages, 'zh', 'contact.erase_confirm', { name: 'Zelda' })).toContain('Zelda');
  });
});

describe('masking', () => {
  it('tells masked values apart', () => {
    expect(isMasked('z•••@example.com')).toBe(true);
    expect(isMasked('+34••••••678')).toBe(true);
    expect(isMasked('zelda@example.com')).toBe(false);
    expect(isMasked(null)).toBe(false);
    expect(contactMasked({ email: null, phone: null, identities: [{ value: '+34••••••678' }] })).toBe(true);
    expect(contactMasked({ email: 'a@b.example', phone: null, identities: [] })).toBe(false);
  });

  it('offers the reveal only with the right permission', () => {
    expect(mayUnmask(['view', 'unmask'])).toBe(true);
    expect(mayUnmask(['see_unmasked'])).toBe(true);
    expect(mayUnmask(['view'])).toBe(false);
    expect(mayUnmask(undefined)).toBe(false);
  });
});

describe('retention form', () => {
  it('keeps empty fields for ever and checks the days', () => {
    expect(retentionPayload('', '')).toEqual({ ok: true, body: { conversation_days: null, attachment_days: null } });
    expect(retentionPayload('365', '30')).toEqual({ ok: true, body: { conversation_days: 365, attachment_days: 30 } });
    expect(retentionPayload('0', '')).toEqual({ ok: false, field: 'conversation_days' });
    expect(retentionPayload('', '1.5')).toEqual({ ok: false, field: 'attachment_days' });
  });
});
