// Sign-in security in the console: the login's second step, codes as
// typed, the session list's labels and the recovery codes to keep.
import type { LoginChallenge, Profile } from '../api/types';

/** Whether the login answer asks for a second factor. */
export function isChallenge(x: Profile | LoginChallenge): x is LoginChallenge {
  return (x as LoginChallenge).two_factor_required === true && typeof (x as LoginChallenge).challenge === 'string';
}

/** A code as the server takes it: a 6-digit app code without spaces, or a
 * recovery code as typed (the server ignores case and dashes). */
export function cleanCode(input: string): string {
  const squeezed = input.replace(/\s+/g, '');
  return /^\d{6}$/.test(squeezed) ? squeezed : input.trim();
}

/** Whether the input can be sent: six digits, or a recovery code of ten
 * letters and digits (dashes and spaces allowed). */
export function codeLooksValid(input: string): boolean {
  const squeezed = input.replace(/[\s-]+/g, '');
  return /^\d{6}$/.test(squeezed) || /^[a-z0-9]{10}$/i.test(squeezed);
}

/** A short name of the browser and system of a `User-Agent`. */
export function browserLabel(ua: string | null | undefined): string {
  if (!ua) return '?';
  const browser = /Edg\//.test(ua)
    ? 'Edge'
    : /Firefox\//.test(ua)
      ? 'Firefox'
      : /(Chrome|Chromium)\//.test(ua)
        ? 'Chrome'
        : /Safari\//.test(ua)
          ? 'Safari'
          : ua.split(/[\s/]/)[0] || '?';
  const os = /Windows/.test(ua)
    ? 'Windows'
    : /Android/.test(ua)
      ? 'Android'
      : /(iPhone|iPad)/.test(ua)
        ? 'iOS'
        : /Mac OS X|Macintosh/.test(ua)
          ? 'macOS'
          : /Linux/.test(ua)
            ? 'Linux'
            : '';
  return os ? `${browser} · ${os}` : browser;
}

/** The recovery codes as a text to save or print, one per line. */
export function recoveryText(codes: string[], account: string): string {
  return [`Ferry — ${account}`, ...codes, ''].join('\n');
}

/** The QR code's SVG as an image address (shown in an <img>, so no markup
 * of the answer enters the page). */
export function svgDataUri(svg: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}
