// Roles and privacy in the console: the role editor's form and its
// payload, the retention form, and whether a contact is shown masked.
// Pure functions, tested in privacy.test.ts.

/** Every permission a custom role may hold, in the editor's order. */
export const PERMISSIONS = [
  'view', 'assign', 'reply', 'manage_inboxes', 'manage_bot', 'manage_agents', 'manage_canned_responses',
  'order_actions', 'see_unmasked', 'unmask', 'reports', 'export', 'audit_log',
] as const;
export type PermissionName = (typeof PERMISSIONS)[number];

/** A role as the API shows it. */
export interface RoleLike {
  name: string;
  permissions: string[];
  refund_limit_minor?: number | null;
}

/** The editor's fields, as typed (the refund limit in major units, empty for no limit). */
export interface RoleForm {
  name: string;
  permissions: PermissionName[];
  refundLimit: string;
}

export function emptyRoleForm(): RoleForm {
  return { name: '', permissions: ['view', 'reply'], refundLimit: '' };
}

export function roleForm(r: RoleLike): RoleForm {
  const permissions = PERMISSIONS.filter((p) => r.permissions.includes(p));
  const limit = r.refund_limit_minor;
  return { name: r.name, permissions, refundLimit: limit === null || limit === undefined ? '' : String(limit / 100) };
}

/** The request body, or the field that is wrong. */
export function rolePayload(f: RoleForm):
  | { ok: true; body: { name: string; permissions: PermissionName[]; refund_limit_minor: number | null } }
  | { ok: false; field: 'name' | 'refund_limit' } {
  const name = f.name.trim();
  if (!name || name.length > 64 || ['owner', 'admin', 'agent'].includes(name.toLowerCase())) return { ok: false, field: 'name' };
  let refund: number | null = null;
  if (f.refundLimit.trim() !== '') {
    const n = Number(f.refundLimit.replace(',', '.'));
    if (!Number.isFinite(n) || n < 0) return { ok: false, field: 'refund_limit' };
    refund = Math.round(n * 100);
  }
  const permissions = PERMISSIONS.filter((p) => f.permissions.includes(p));
  return { ok: true, body: { name, permissions, refund_limit_minor: refund } };
}

/** Toggles one permission in a form's list. */
export function togglePermission(list: PermissionName[], p: PermissionName): PermissionName[] {
  return list.includes(p) ? list.filter((x) => x !== p) : PERMISSIONS.filter((x) => x === p || list.includes(x));
}

/** Whether a value came back masked (`a•••@example.com`, `+34••••••678`). */
export function isMasked(v: string | null | undefined): boolean {
  return typeof v === 'string' && v.includes('•');
}

/** Whether any of a contact's e-mails or phones is masked. */
export function contactMasked(c: { email?: string | null; phone?: string | null; identities?: { value: string }[] }): boolean {
  return isMasked(c.email) || isMasked(c.phone) || (c.identities ?? []).some((i) => isMasked(i.value));
}

/** Whether the caller may reveal masked values. */
export function mayUnmask(permissions: string[] | undefined): boolean {
  return !!permissions && (permissions.includes('see_unmasked') || permissions.includes('unmask'));
}

/** The retention form's body (`''` keeps for ever), or the field that is wrong. */
export function retentionPayload(conversations: string, attachments: string):
  | { ok: true; body: { conversation_days: number | null; attachment_days: number | null } }
  | { ok: false; field: 'conversation_days' | 'attachment_days' } {
  const days = (s: string): number | null | undefined => {
    if (s.trim() === '') return null;
    const n = Number(s);
    return Number.isInteger(n) && n >= 1 && n <= 36500 ? n : undefined;
  };
  const c = days(conversations);
  if (c === undefined) return { ok: false, field: 'conversation_days' };
  const a = days(attachments);
  if (a === undefined) return { ok: false, field: 'attachment_days' };
  return { ok: true, body: { conversation_days: c, attachment_days: a } };
}
