// Strings of e-mail inboxes, e-mail messages and the compliance gate,
// English and Simplified Chinese, added to the console's catalog when
// imported.
import type { Catalog } from '../lib/i18n';
import { messages } from './messages';

export const emailMessages: Catalog = {
  en: {
    'channel.amazon': 'Amazon',
    'email.settings': 'E-mail settings', 'email.address': 'Address', 'email.from_name': 'Sender name',
    'email.imap': 'Incoming mail (IMAP)', 'email.smtp': 'Outgoing mail (SMTP)', 'email.use_imap': 'Read mail from an IMAP server',
    'email.use_smtp': 'Send replies through an SMTP server', 'email.host': 'Host', 'email.port': 'Port', 'email.security': 'Security',
    'email.security.tls': 'TLS', 'email.security.starttls': 'STARTTLS', 'email.security.plain': 'None (local network only)',
    'email.username': 'User name', 'email.password': 'Password', 'email.password_set': 'set — type to replace',
    'email.folders': 'Folders (comma separated)', 'email.ca_pem': 'Trusted certificate (PEM, optional, for a private or self-signed server)',
    'email.amazon': 'Amazon buyer relay (buyers write through Amazon; Amazon rules apply to replies)',
    'email.test': 'Test connection', 'email.testing': 'Testing…', 'email.ok': 'works', 'email.failed': 'failed: {error}',
    'email.not_set': 'not set', 'email.idle': 'new mail arrives at once (IDLE)', 'email.poll': 'new mail is polled',
    'email.messages': '{count} messages', 'email.save_first': 'Save the settings, then test them.',
    'email.subject': 'Subject', 'email.from': 'From', 'email.to': 'To', 'email.cc': 'Cc',
    'email.show_quoted': 'Show quoted text', 'email.hide_quoted': 'Hide quoted text', 'email.automatic': 'Automatic reply: {text}',
    'email.order': 'Amazon order {id}',
    'gate.checking': 'Checking…', 'gate.warn': 'Warning', 'gate.block': 'Blocks sending', 'gate.preview': 'Where',
    'gate.blocked': 'Sending is blocked: {reason}', 'gate.refused': 'The message was not sent: it breaks the channel’s rules.',
  },
  zh: {
    'channel.amazon': '亚马逊',
    'email.settings': '邮件设置', 'email.address': '地址', 'email.from_name': '发件人名称',
    'email.imap': '收件服务器 (IMAP)', 'email.smtp': '发件服务器 (SMTP)', 'email.use_imap': '从 IMAP 服务器读取邮件',
    'email.use_smtp': '通过 SMTP 服务器发送回复', 'email.host': '主机', 'email.port': '端口', 'email.security': '加密方式',
    'email.security.tls': 'TLS', 'email.security.starttls': 'STARTTLS', 'email.security.plain': '不加密（仅限本地网络）',
    'email.username': '用户名', 'email.password': '密码', 'email.password_set': '已设置，输入以替换',
    'email.folders': '文件夹（用逗号分隔）', 'email.ca_pem': '信任的证书（PEM，可选，用于私有或自签名服务器）',
    'email.amazon': '亚马逊买家中转（买家通过亚马逊来信；回复须符合亚马逊规则）',
    'email.test': '测试连接', 'email.testing': '正在测试…', 'email.ok': '正常', 'email.failed': '失败：{error}',
    'email.not_set': '未设置', 'email.idle': '新邮件即时到达 (IDLE)', 'email.poll': '定期检查新邮件',
    'email.messages': '{count} 封邮件', 'email.save_first': '请先保存设置，再进行测试。',
    'email.subject': '主题', 'email.from': '发件人', 'email.to': '收件人', 'email.cc': '抄送',
    'email.show_quoted': '显示引用内容', 'email.hide_quoted': '隐藏引用内容', 'email.automatic': '自动回复：{text}',
    'email.order': '亚马逊订单 {id}',
    'gate.checking': '正在检查…', 'gate.warn': '警告', 'gate.block': '禁止发送', 'gate.preview': '位置',
    'gate.blocked': '无法发送：{reason}', 'gate.refused': '消息未发送：违反了该渠道的规则。',
  },
};

for (const [locale, dict] of Object.entries(emailMessages)) Object.assign((messages[locale] ??= {}), dict);
