// The sign-in security strings (second step of the login, two-factor
// authentication, sessions, the account's rule), English and Simplified
// Chinese, added to the console's catalog when loaded.
import type { Catalog } from '../lib/i18n';
import { messages } from './messages';

export const securityMessages: Catalog = {
  en: {
    'login.code_title': 'Two-factor authentication',
    'login.code_hint': 'Enter the 6-digit code of your authenticator app, or one of your recovery codes.',
    'login.code': 'Code', 'login.verify': 'Verify', 'login.code_failed': 'Wrong or already used code.',
    'login.expired': 'This sign-in has expired. Enter your e-mail and password again.', 'login.back': 'Back',
    'login.locked': 'Too many failed attempts. Try again in {minutes} {minutes|minute|minutes}.',
    'nav.security': 'Security',
    'security.title': 'Sign-in security',
    'security.2fa': 'Two-factor authentication', 'security.on': 'On', 'security.off': 'Off',
    'security.intro': 'Besides your password, signing in asks for a code of an authenticator app on your phone.',
    'security.codes_left': '{count} {count|recovery code|recovery codes} left',
    'security.set_up': 'Set up', 'security.scan': 'Scan this QR code with your authenticator app, or type in the key:',
    'security.enter_code': 'Then enter the 6-digit code it shows:', 'security.enable': 'Turn on',
    'security.recovery_title': 'Your recovery codes',
    'security.recovery_hint': 'Keep them somewhere safe. Each one signs you in once if you lose your phone. They are shown only now.',
    'security.copy': 'Copy', 'security.copied': 'Copied.', 'security.done': 'I have saved them',
    'security.disable': 'Turn off', 'security.disable_hint': 'To turn it off, enter your password and a current code.',
    'security.password': 'Password', 'security.required_banner': 'Your account requires two-factor authentication. Set it up to continue.',
    'security.sessions': 'Where you are signed in', 'security.current': 'This browser',
    'security.signed_in': 'Signed in {date}', 'security.last_seen': 'last active {date}',
    'security.revoke': 'Sign out', 'security.revoke_others': 'Sign out everywhere else',
    'security.revoked': '{count} {count|session|sessions} signed out.',
    'security.account': 'Account rule', 'security.require': 'Require two-factor authentication for everyone in this account',
    'security.require_hint': 'Users without it can only set it up until they have.',
    'error.code.login_locked': 'Too many failed attempts. Try again later.',
    'error.code.two_factor_required': 'Your account requires two-factor authentication. Set it up first.',
  },
  zh: {
    'login.code_title': '两步验证',
    'login.code_hint': '请输入身份验证器应用显示的 6 位验证码，或一个恢复码。',
    'login.code': '验证码', 'login.verify': '验证', 'login.code_failed': '验证码错误或已被使用。',
    'login.expired': '本次登录已过期，请重新输入邮箱和密码。', 'login.back': '返回',
    'login.locked': '失败次数过多，请 {minutes} 分钟后再试。',
    'nav.security': '安全',
    'security.title': '登录安全',
    'security.2fa': '两步验证', 'security.on': '已开启', 'security.off': '未开启',
    'security.intro': '登录时除了密码，还需要输入手机上身份验证器应用的验证码。',
    'security.codes_left': '剩余 {count} 个恢复码',
    'security.set_up': '设置', 'security.scan': '用身份验证器应用扫描此二维码，或手动输入密钥：',
    'security.enter_code': '然后输入应用显示的 6 位验证码：', 'security.enable': '开启',
    'security.recovery_title': '您的恢复码',
    'security.recovery_hint': '请妥善保存。手机丢失时，每个恢复码可登录一次。恢复码只显示这一次。',
    'security.copy': '复制', 'security.copied': '已复制。', 'security.done': '我已保存',
    'security.disable': '关闭', 'security.disable_hint': '关闭前请输入密码和当前验证码。',
    'security.password': '密码', 'security.required_banner': '您的账户要求开启两步验证，请先完成设置。',
    'security.sessions': '已登录的设备', 'security.current': '当前浏览器',
    'security.signed_in': '登录于 {date}', 'security.last_seen': '最近活动 {date}',
    'security.revoke': '退出登录', 'security.revoke_others': '退出其他所有设备',
    'security.revoked': '已退出 {count} 个会话。',
    'security.account': '账户规则', 'security.require': '要求本账户所有成员开启两步验证',
    'security.require_hint': '未开启的成员在设置完成前只能进行设置。',
    'error.code.login_locked': '失败次数过多，请稍后再试。',
    'error.code.two_factor_required': '您的账户要求开启两步验证，请先完成设置。',
  },
};

for (const [locale, dict] of Object.entries(securityMessages)) Object.assign((messages[locale] ??= {}), dict);
