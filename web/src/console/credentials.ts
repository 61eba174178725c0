// Passwords and invitations on the console's side: which public page a
// link opens, the token it carries, and the checks a new password gets
// before it is sent (the server checks again and has the final word).
import type { components } from '../api/types/openapi';

export type Invitation = components['schemas']['InvitationView'];
export type InvitationCreated = components['schemas']['InvitationCreated'];

/** The pages a logged-out visitor may open from an e-mailed link. */
export type PublicPage = 'reset' | 'accept';

export const MIN_PASSWORD = 10;
export const MAX_PASSWORD = 128;

/** The public page of a path, if it is one. */
export function publicPage(pathname: string): PublicPage | null {
  const p = pathname.replace(/\/+$/, '');
  if (p === '/reset-password') return 'reset';
  if (p === '/accept-invitation') return 'accept';
  return null;
}

/** The `token` of a link's query string (hex only), or null. */
export function linkToken(search: string): string | null {
  const token = new URLSearchParams(search).get('token')?.trim() ?? '';
  return /^[0-9a-f]{16,128}$/i.test(token) ? token : null;
}

/** The error code of what is wrong with a new password that the console
 * can tell without the server (the same codes the server answers), or
 * null. `repeat` is the second entry. */
export function passwordProblem(password: string, repeat: string): string | null {
  const n = [...password].length;
  if (n < MIN_PASSWORD) return 'password_too_short';
  if (n > MAX_PASSWORD) return 'password_too_long';
  if (password !== repeat) return 'password_mismatch';
  return null;
}

/** The badge key of an invitation's state. */
export function stateKey(i: Pick<Invitation, 'state'>): string {
  return `invite.state.${i.state}`;
}

/** Only the pending invitations can be revoked. */
export function revocable(i: Pick<Invitation, 'state'>): boolean {
  return i.state === 'pending';
}
